"""
System checks for throttling, run at startup.

| id | level | what |
|---|---|---|
| `daf_drf.E020` | error | a rate in `DEFAULT_THROTTLE_RATES` that DRF would crash on or misread |
| `daf_drf.E021` | error | `THROTTLE_STORE` is not a store URL daf_drf knows (or redis-py refuses) |
| `daf_drf.E022` | error | a numeric `THROTTLE_*` setting is not positive |
| `daf_drf.E023` | error | a throttle class (default, or of a mounted view) has an invalid `rate` |
| `daf_drf.E024` | error | an async-only throttle on a view DRF dispatches (never throttles) |
| `daf_drf.W020` | warning | throttles count in a shared Django cache, which is not atomic |
"""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Warning, register

__all__ = [
    "check_async_throttles_on_drf_views",
    "check_throttle_rates",
    "check_throttle_settings",
    "check_throttle_store_atomicity",
]

STORE_HINT = (
    'Set DAF_DRF["THROTTLE_STORE"] to "redis://host:6379/0" (exact across processes), '
    '"memory://" (exact within one process) or "cache://<alias>".'
)


@register()
def check_throttle_rates(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Every rate in `DEFAULT_THROTTLE_RATES`, and every throttle class's `rate`, must parse."""
    from rest_framework.settings import api_settings

    from daf_drf.throttling import rate_problem

    messages: list[CheckMessage] = []
    rates = api_settings.DEFAULT_THROTTLE_RATES or {}
    if not isinstance(rates, dict):
        return [
            Error(
                f'REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] is {type(rates).__name__}; it must be '
                "a dict of scope -> rate.",
                hint="e.g. {'anon': '100/hour', 'user': '1000/day'}",
                id="daf_drf.E020",
            )
        ]
    for scope, rate in rates.items():
        problem = rate_problem(rate)
        if problem:
            messages.append(
                Error(
                    f'REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][{scope!r}]: {problem}.',
                    hint="Use '<count>/<period>' with a period of s, sec, second, m, min, "
                    "minute, h, hour, d or day (plurals too), e.g. '100/day'.",
                    id="daf_drf.E020",
                )
            )
    try:
        classes = list(api_settings.DEFAULT_THROTTLE_CLASSES)
    except ImportError:
        classes = []  # DRF reports unimportable classes itself, on first request
    for _route, view, initkwargs in _views():
        classes.extend(initkwargs.get("throttle_classes", view.throttle_classes))
    for cls in dict.fromkeys(classes):
        rate = getattr(cls, "rate", None)
        problem = rate_problem(rate)
        if problem:
            messages.append(
                Error(
                    f"{_dotted(cls)}.rate: {problem}.",
                    hint="Use '<count>/<period>', e.g. '10/min'.",
                    id="daf_drf.E023",
                )
            )
    return messages


@register()
def check_async_throttles_on_drf_views(
    app_configs: Any = None, **kwargs: Any
) -> list[CheckMessage]:
    """DRF takes the coroutine of an async-only throttle as True: it would never throttle."""
    import inspect

    from rest_framework import views as drf_views
    from rest_framework.throttling import BaseThrottle as DrfBaseThrottle

    messages: list[CheckMessage] = []
    for route, view, initkwargs in _views():
        if view.check_throttles is not drf_views.APIView.check_throttles:
            continue  # daf_drf views (and others with their own check) await async throttles
        for throttle in initkwargs.get("throttle_classes", view.throttle_classes):
            method = getattr(throttle, "allow_request", None)
            async_only = inspect.iscoroutinefunction(method) or (
                getattr(throttle, "aallow_request", None) is not None
                and method is DrfBaseThrottle.allow_request
            )
            if async_only:
                messages.append(
                    Error(
                        f"{_dotted(view)} (/{route}) is dispatched by DRF, which checks "
                        f"throttles synchronously, but {_dotted(throttle)} is async only: DRF "
                        "would take its coroutine as True and never throttle.",
                        hint="Make the view a daf_drf view, or give the throttle a sync "
                        "`allow_request` (keep the async one as `aallow_request`).",
                        obj=view,
                        id="daf_drf.E024",
                    )
                )
    return messages


def _views() -> Any:
    from daf_drf.permission_checks import _drf_views

    return _drf_views()


@register()
def check_throttle_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The throttle store URL and the numeric throttle settings must make sense."""
    from daf_drf.backends import validate_store_url
    from daf_drf.settings import daf_settings

    messages: list[CheckMessage] = []
    problem = validate_store_url(daf_settings.THROTTLE_STORE)
    if problem:
        messages.append(
            Error(f'DAF_DRF["THROTTLE_STORE"] {problem}.', hint=STORE_HINT, id="daf_drf.E021")
        )
    for name in ("THROTTLE_TIMEOUT", "THROTTLE_FAILURE_RETRY_AFTER", "THROTTLE_REDIS_POOL_SIZE"):
        value = getattr(daf_settings, name)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            messages.append(
                Error(
                    f'DAF_DRF["{name}"] is {value!r}; it must be a positive number.',
                    hint="THROTTLE_TIMEOUT bounds every store call (seconds); "
                    "THROTTLE_FAILURE_RETRY_AFTER is the Retry-After of a fail-closed 429.",
                    id="daf_drf.E022",
                )
            )
    return messages


@register()
def check_throttle_store_atomicity(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when throttles count in a Django cache that other processes share."""
    from django.core.cache import caches
    from rest_framework.settings import api_settings

    from daf_drf.backends import validate_store_url
    from daf_drf.backends.cache import is_in_process
    from daf_drf.settings import daf_settings

    store = daf_settings.THROTTLE_STORE
    if validate_store_url(store):
        return []
    if store is None:
        try:
            if not api_settings.DEFAULT_THROTTLE_CLASSES:
                return []
        except ImportError:
            return []
        alias = "default"
    elif store.startswith("cache://"):
        alias = store[len("cache://") :]
    else:
        return []
    try:
        cache = caches[alias]
    except Exception:  # an unknown alias is Django's own configuration error
        return []
    if is_in_process(cache):
        return []
    return [
        Warning(
            f"Throttles count in the shared cache {alias!r} ({type(cache).__name__}), with "
            "DRF's read-modify-write: concurrent requests can all be admitted past the rate.",
            hint=STORE_HINT,
            id="daf_drf.W020",
        )
    ]


def _dotted(cls: Any) -> str:
    return f"{getattr(cls, '__module__', '')}.{getattr(cls, '__qualname__', cls)}"
