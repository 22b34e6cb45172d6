"""
System checks for generic views and viewsets whose hooks DRF's sync call sites cannot await.

daf_drf awaits an `async def get_queryset` in every request it dispatches, and daf_drf's
generic views and viewsets also answer DRF's sync callers with the queryset
(`hooks.answers_sync_callers`). A view built on another base (DRF's own generics with an
`async def get_queryset`: a half-done migration) does not, and DRF's own code and two libraries
call `view.get_queryset()` themselves, synchronously, and get a coroutine:

- the browsable API (`BrowsableAPIRenderer`), for its filter form, on every list page, whether
  or not the view has a `queryset` attribute;
- django-filter's `DjangoFilterBackend`, for its schema parameters;
- drf-spectacular, to find the view's model, but only when the view has no `queryset`
  attribute.

This check walks the URLconf at startup and reports the views where such a call would happen:
`daf_drf.W070`, an async `get_queryset` that DRF or a library calls synchronously.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Warning
from rest_framework.views import APIView

from daf_drf.checks.permissions import is_coroutine_function
from daf_drf.checks.urls import routed_views

__all__ = ["check_async_get_queryset", "sync_get_queryset_callers"]


def _subclass_of(classes: Iterable[object], dotted: str) -> bool:
    module_name, _, name = dotted.rpartition(".")
    try:
        module = __import__(module_name, fromlist=[name])
    except ImportError:
        return False
    base = getattr(module, name, None)
    return base is not None and any(
        isinstance(cls, type) and issubclass(cls, base) for cls in classes
    )


def _schema(cls: type[APIView]) -> object:
    try:
        return getattr(cls, "schema", None)  # DRF's descriptor: DEFAULT_SCHEMA_CLASS()
    except Exception:  # a broken DEFAULT_SCHEMA_CLASS: DRF's own use of it reports that
        return None


def _uses_spectacular(schema: object) -> bool:
    return (
        type(schema).__module__.startswith("drf_spectacular.")
        or "drf_spectacular" in settings.INSTALLED_APPS
    )


def sync_get_queryset_callers(cls: type[APIView], initkwargs: Mapping[str, Any]) -> list[str]:
    """
    Name the sync callers that would call `cls.get_queryset()` and get a coroutine: the
    browsable API, django-filter's schema parameters, drf-spectacular. Empty when
    `get_queryset` is sync or none of them applies.
    """
    get_queryset = getattr(cls, "get_queryset", None)
    if getattr(get_queryset, "answers_sync_callers", False):
        return []  # daf_drf's generics: DRF's sync callers get the queryset
    if not is_coroutine_function(get_queryset):
        return []
    renderers = initkwargs.get("renderer_classes", getattr(cls, "renderer_classes", ()))
    backends = initkwargs.get("filter_backends", getattr(cls, "filter_backends", ()))
    callers = []
    if _subclass_of(renderers, "rest_framework.renderers.BrowsableAPIRenderer"):
        callers.append("the browsable API")
    schema = _schema(cls)
    if schema is not None:
        if _subclass_of(backends, "django_filters.rest_framework.DjangoFilterBackend"):
            callers.append("django-filter's schema parameters")
        has_queryset = initkwargs.get("queryset", getattr(cls, "queryset", None)) is not None
        if not has_queryset and _uses_spectacular(schema):
            callers.append("drf-spectacular (the view has no `queryset` attribute)")
    return callers


def check_async_get_queryset(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """Report routed views with an `async def get_queryset` that DRF would call synchronously."""
    messages: list[CheckMessage] = []
    seen: set[type[APIView]] = set()
    for route, cls, initkwargs in routed_views():
        callers = sync_get_queryset_callers(cls, initkwargs)
        if not callers or cls in seen:
            continue
        seen.add(cls)
        messages.append(
            Warning(
                f"{cls.__module__}.{cls.__qualname__} (/{route}) has an `async def "
                f"get_queryset`, but {', '.join(callers)} call `get_queryset()` "
                "synchronously and would get a coroutine instead of a queryset.",
                hint="Build the view on daf_drf.generics or daf_drf.viewsets (their async "
                "hooks answer DRF's sync callers), or make `get_queryset` sync. (For "
                "drf-spectacular alone, a `queryset` attribute is enough.) See "
                "docs/troubleshooting.md in daf_drf's documentation.",
                obj=cls,
                id="daf_drf.W070",
            )
        )
    return messages
