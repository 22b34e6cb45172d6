"""
System checks for async permissions and authenticators mounted on views that DRF dispatches.

daf_drf views await async checks. A view still on DRF does not: DRF's `check_permissions`
runs `if not permission.has_permission(request, self)`, and a coroutine is truthy, so an
async permission on a DRF view never denies. These checks walk the URLconf at startup and
report every such mount.

`daf_drf.E010`: an async permission on a view DRF checks synchronously (it never denies).
`daf_drf.E011`: an async-only authenticator on a view DRF authenticates (every request 500s).

A sync method that returns a coroutine cannot be recognised before it runs; daf_drf views
await it, DRF views cannot.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error
from rest_framework import views as drf_views
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission, OperandHolder, SingleOperandHolder

from daf_drf.checks.urls import routed_views

__all__ = [
    "check_async_hooks_on_drf_views",
    "is_async_authenticator",
    "is_async_permission",
    "is_coroutine_function",
]


def is_coroutine_function(func: object) -> bool:
    """Whether `func`, unwrapped through its decorators, is an `async def`."""
    if not callable(func):
        return False
    try:
        func = inspect.unwrap(func)
    except ValueError:  # a `__wrapped__` cycle
        return False
    return inspect.iscoroutinefunction(func)


def is_async_permission(permission: object) -> bool:
    """Whether DRF's sync evaluation of `permission` (a class or an operator holder) fails open."""
    if isinstance(permission, OperandHolder):
        return is_async_permission(permission.op1_class) or is_async_permission(
            permission.op2_class
        )
    if isinstance(permission, SingleOperandHolder):
        return is_async_permission(permission.op1_class)
    for name in ("has_permission", "has_object_permission"):
        method = getattr(permission, name, None)
        if method is not None and is_coroutine_function(method):
            return True
        # Only the async sibling is implemented: DRF would call the inherited default (True).
        if getattr(permission, "a" + name, None) is not None and method is getattr(
            BasePermission, name
        ):
            return True
    return False


def is_async_authenticator(authenticator: object) -> bool:
    """Whether `authenticator` (a class) has no sync `authenticate` DRF could call."""
    method = getattr(authenticator, "authenticate", None)
    if method is not None and is_coroutine_function(method):
        return True
    return getattr(authenticator, "aauthenticate", None) is not None and (
        method is BaseAuthentication.authenticate
    )


def check_async_hooks_on_drf_views(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """Report async permissions and authenticators on views that DRF dispatches synchronously."""
    messages: list[CheckMessage] = []
    for route, cls, initkwargs in routed_views():
        where = f"{cls.__module__}.{cls.__qualname__} (/{route})"
        if cls.check_permissions is drf_views.APIView.check_permissions:
            for permission in initkwargs.get("permission_classes", cls.permission_classes):
                if is_async_permission(permission):
                    messages.append(
                        Error(
                            f"{where} is dispatched by DRF, which checks permissions "
                            f"synchronously, but {_name(permission)} is async: DRF would "
                            "take its coroutine as True and never deny.",
                            hint="Make the view a daf_drf view (import APIView, generics or "
                            "viewsets from daf_drf), or give the permission a sync method.",
                            obj=cls,
                            id="daf_drf.E010",
                        )
                    )
        if cls.initialize_request is not drf_views.APIView.initialize_request:
            continue  # a view that builds its own request (daf_drf, adrf) authenticates itself
        for authenticator in initkwargs.get("authentication_classes", cls.authentication_classes):
            if is_async_authenticator(authenticator):
                messages.append(
                    Error(
                        f"{where} is dispatched by DRF, which authenticates synchronously, but "
                        f"{_name(authenticator)} has only an async `authenticate`: every "
                        "request it sees would fail with a 500.",
                        hint="Make the view a daf_drf view, or give the authenticator a sync "
                        "`authenticate` (and keep the async one as `aauthenticate`).",
                        obj=cls,
                        id="daf_drf.E011",
                    )
                )
    return messages


def _name(obj: object) -> str:
    if isinstance(obj, OperandHolder | SingleOperandHolder):
        return "a composed permission with an async operand"
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', obj)}"
