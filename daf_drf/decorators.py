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
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar, cast

from rest_framework import decorators as drf_decorators
from rest_framework.decorators import (
    action,
    authentication_classes,
    parser_classes,
    permission_classes,
    renderer_classes,
    schema,
    throttle_classes,
)
from rest_framework.views import APIView as DRFAPIView

from daf_drf.views import APIView

__all__ = [
    "ApiViewMisuse",
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


T = TypeVar("T")


class ApiViewMisuse(AssertionError, TypeError):
    """
    `@api_view` used without its method list, or with a string: DRF's `AssertionError` with
    DRF's message (and a `TypeError`, the error daf_drf raises for other programming errors).
    """


def _check_order(func: object, decorator_name: str) -> None:
    """Raise `TypeError` if a policy decorator sits above `@api_view` (DRF >= 3.17's check)."""
    if hasattr(func, "cls") and issubclass(func.cls, DRFAPIView):
        raise TypeError(
            f"@{decorator_name} must come after (below) the @api_view decorator. "
            "The correct order is:\n\n"
            "    @api_view(['GET'])\n"
            f"    @{decorator_name}(...)\n"
            "    def my_view(request):\n"
            "        ..."
        )


def _policy(attribute: str) -> Callable[[object], Callable[[T], T]]:
    def policy(value: object) -> Callable[[T], T]:
        def decorator(func: T) -> T:
            _check_order(func, attribute)
            setattr(func, attribute, value)
            return func

        return decorator

    policy.__name__ = policy.__qualname__ = attribute
    policy.__doc__ = f"Set `{attribute}` on a function view (DRF's decorator, for DRF < 3.17)."
    return policy


# DRF 3.16 lacks these decorators; DRF 3.17 added them, DRF 3.18 added `throttle_scope`. Use
# DRF's own where it has them, so that its decorator-order check and behaviour apply.
content_negotiation_class = getattr(
    drf_decorators, "content_negotiation_class", _policy("content_negotiation_class")
)
metadata_class = getattr(drf_decorators, "metadata_class", _policy("metadata_class"))
versioning_class = getattr(drf_decorators, "versioning_class", _policy("versioning_class"))
throttle_scope = getattr(drf_decorators, "throttle_scope", _policy("throttle_scope"))


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
) -> Callable[[Callable[..., Awaitable[object]]], Callable[..., Any]]:
    """
    Turn an `async def` function into a daf_drf `APIView` subclass, like DRF's `@api_view`.

    The function must be a coroutine function; a sync function is a `TypeError` (use
    `rest_framework.decorators.api_view` for it).
    """
    methods = ["GET"] if http_method_names is None else http_method_names

    def decorator(func: Callable[..., Awaitable[object]]) -> Callable[..., Any]:
        # DRF's checks, where DRF makes them: `@api_view` without its list hands back this
        # decorator as the "view", which raises when called; a string raises when decorating.
        if inspect.isfunction(methods):
            raise ApiViewMisuse("@api_view missing list of allowed HTTP methods")
        if not isinstance(methods, list | tuple):
            raise ApiViewMisuse(
                f"@api_view expected a list of strings, received {type(methods).__name__}"
            )
        if not inspect.iscoroutinefunction(func):
            raise TypeError(
                f"{func.__module__}.{func.__qualname__} must be `async def` to use "
                "daf_drf.decorators.api_view; use rest_framework.decorators.api_view for a "
                "sync function view."
            )

        async def handler(self: APIView, *args: object, **kwargs: object) -> object:
            return await func(*args, **kwargs)

        attrs: dict[str, object] = {"__doc__": func.__doc__, "__module__": func.__module__}
        # The same set expression as DRF, so that `Allow` lists the methods in DRF's order.
        allowed_methods = set(methods) | {"options"}
        attrs["http_method_names"] = [m.lower() for m in allowed_methods]
        for method in methods:
            attrs[method.lower()] = handler
        for name in _POLICIES:
            attrs[name] = getattr(func, name, getattr(APIView, name))
        attrs["throttle_scope"] = getattr(func, "throttle_scope", None)
        # `type()` builds an `APIView` subclass, which typeshed can only call `type`.
        wrapped = cast(type[APIView], type(func.__name__, (APIView,), attrs))
        wrapped.__qualname__ = func.__qualname__
        view: Callable[..., Any] = wrapped.as_view()
        return view

    return decorator
