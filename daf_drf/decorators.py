"""
`@api_view` for `async def` function views, and DRF's policy decorators.

    from daf_drf.decorators import api_view, permission_classes

    @api_view(["GET"])
    @permission_classes([IsAuthenticated])
    async def whoami(request):
        return Response({"username": request.user.username})

DRF's policy decorators (`permission_classes`, `throttle_classes`, `throttle_scope`, ...) and
`action` are re-exported unchanged; DRF's decorator-order check applies.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from rest_framework.decorators import (  # type: ignore[attr-defined]
    _check_decorator_order,
    action,
    authentication_classes,
    content_negotiation_class,
    metadata_class,
    parser_classes,
    permission_classes,
    renderer_classes,
    schema,
    throttle_classes,
    versioning_class,
)

from daf_drf.views import APIView

__all__ = [
    "action",
    "api_view",
    "authentication_classes",
    "content_negotiation_class",
    "metadata_class",
    "parser_classes",
    "permission_classes",
    "renderer_classes",
    "schema",
    "throttle_classes",
    "throttle_scope",
    "versioning_class",
]

try:
    from rest_framework.decorators import throttle_scope  # DRF >= 3.18
except ImportError:  # pragma: no cover - DRF 3.16 / 3.17

    def throttle_scope(scope: str) -> Callable[[Any], Any]:  # type: ignore[misc]
        """Set `throttle_scope` on a function view, for `ScopedRateThrottle`."""

        def decorator(func: Any) -> Any:
            _check_decorator_order(func, "throttle_scope")
            func.throttle_scope = scope
            return func

        return decorator


_POLICIES = (
    "renderer_classes",
    "parser_classes",
    "authentication_classes",
    "throttle_classes",
    "permission_classes",
    "content_negotiation_class",
    "metadata_class",
    "versioning_class",
    "schema",
)


def api_view(
    http_method_names: Sequence[str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """
    Turn an `async def` function into a daf_drf `APIView` subclass, like DRF's `@api_view`.

    The function must be a coroutine function; a sync function is a `TypeError` (use
    `rest_framework.decorators.api_view` for it).
    """
    methods = ["GET"] if http_method_names is None else http_method_names
    if inspect.isfunction(methods):
        raise TypeError("@api_view missing list of allowed HTTP methods")
    if not isinstance(methods, list | tuple):
        raise TypeError(f"@api_view expected a list of strings, received {type(methods).__name__}")

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        if not inspect.iscoroutinefunction(func):
            raise TypeError(
                f"{func.__module__}.{func.__qualname__} must be `async def` to use "
                "daf_drf.decorators.api_view; use rest_framework.decorators.api_view for a "
                "sync function view."
            )

        async def handler(self: APIView, *args: Any, **kwargs: Any) -> Any:
            return await func(*args, **kwargs)

        attrs: dict[str, Any] = {"__doc__": func.__doc__, "__module__": func.__module__}
        # The same set expression as DRF, so that `Allow` lists the methods in DRF's order.
        allowed_methods = set(methods) | {"options"}
        attrs["http_method_names"] = [m.lower() for m in allowed_methods]
        for method in methods:
            attrs[method.lower()] = handler
        for name in _POLICIES:
            attrs[name] = getattr(func, name, getattr(APIView, name))
        attrs["throttle_scope"] = getattr(func, "throttle_scope", None)
        wrapped = type(func.__name__, (APIView,), attrs)
        wrapped.__qualname__ = func.__qualname__
        return wrapped.as_view()  # type: ignore[attr-defined,no-any-return]

    return decorator
