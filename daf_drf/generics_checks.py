"""
System checks for generic views and viewsets whose hooks DRF's sync call sites cannot await.

daf_drf awaits an `async def get_queryset` in every request it dispatches. DRF's own code calls
`view.get_queryset()` synchronously in a few places, and a coroutine there is not a queryset:

- the browsable API (`BrowsableAPIRenderer`) and, through it, django-filter's filter form;
- schema generation: drf-spectacular reads the model from `view.queryset` and, only when the
  view has no `queryset` attribute, calls `get_queryset()`; django-filter's schema parameters
  do the same.

A `queryset` attribute next to the async `get_queryset` answers the schema generators, and the
browsable API renders when daf_drf's sync `get_queryset` sibling handles the call. This check
walks the URLconf at startup and reports the views where such a call would meet a coroutine.

| id | level | what |
|---|---|---|
| `daf_drf.W070` | warning | an async `get_queryset`, no `queryset`, and a sync caller |
"""

from __future__ import annotations

import inspect
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning, register

__all__ = ["check_async_get_queryset", "sync_get_queryset_callers"]


def _is_coroutine_function(func: Any) -> bool:
    try:
        func = inspect.unwrap(func)
    except ValueError:  # a `__wrapped__` cycle
        return False
    return inspect.iscoroutinefunction(func)


def _subclass_of(classes: Any, dotted: str) -> bool:
    module_name, _, name = dotted.rpartition(".")
    try:
        module = __import__(module_name, fromlist=[name])
    except ImportError:
        return False
    base = getattr(module, name, None)
    return base is not None and any(
        isinstance(cls, type) and issubclass(cls, base) for cls in classes
    )


def _schema_generation_calls_get_queryset(cls: Any, filter_backends: Any) -> bool:
    try:
        schema = getattr(cls, "schema", None)  # DRF's descriptor: DEFAULT_SCHEMA_CLASS()
    except Exception:  # a broken DEFAULT_SCHEMA_CLASS: DRF's own use of it reports that
        return False
    if schema is None:  # `schema = None` excludes the view
        return False
    if type(schema).__module__.startswith("drf_spectacular."):
        return True
    if "drf_spectacular" in settings.INSTALLED_APPS:
        return True
    return _subclass_of(filter_backends, "django_filters.rest_framework.DjangoFilterBackend")


def sync_get_queryset_callers(cls: Any, initkwargs: dict[str, Any]) -> list[str]:
    """
    Name DRF's sync call sites that would call `cls.get_queryset()` and get a coroutine: the
    browsable API, django-filter's form, schema generation. Empty when `get_queryset` is sync,
    or the view has a `queryset` attribute, or none of them applies.
    """
    if not _is_coroutine_function(getattr(cls, "get_queryset", None)):
        return []
    if initkwargs.get("queryset", getattr(cls, "queryset", None)) is not None:
        return []
    renderers = initkwargs.get("renderer_classes", getattr(cls, "renderer_classes", ()))
    backends = initkwargs.get("filter_backends", getattr(cls, "filter_backends", ()))
    callers = []
    if _subclass_of(renderers, "rest_framework.renderers.BrowsableAPIRenderer"):
        callers.append("the browsable API")
        if _subclass_of(backends, "django_filters.rest_framework.DjangoFilterBackend"):
            callers.append("django-filter's filter form")
    if _schema_generation_calls_get_queryset(cls, backends):
        callers.append("schema generation")
    return callers


@register()
def check_async_get_queryset(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Report routed views with an `async def get_queryset` that DRF would call synchronously."""
    from daf_drf.permission_checks import _drf_views

    messages: list[CheckMessage] = []
    seen: set[Any] = set()
    for route, cls, initkwargs in _drf_views():
        callers = sync_get_queryset_callers(cls, initkwargs)
        if not callers or cls in seen:
            continue
        seen.add(cls)
        messages.append(
            Warning(
                f"{cls.__module__}.{cls.__qualname__} (/{route}) has an `async def "
                f"get_queryset` and no `queryset` attribute, but {' and '.join(callers)} "
                "call `get_queryset()` synchronously and would get a coroutine instead of a "
                "queryset.",
                hint="Add a `queryset` attribute naming the model's base queryset (the async "
                "`get_queryset` still decides what requests see), or make `get_queryset` sync. "
                "See docs/troubleshooting.md in daf_drf's documentation.",
                obj=cls,
                id="daf_drf.W070",
            )
        )
    return messages
