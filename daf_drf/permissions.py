"""
Permissions for daf_drf views.

DRF's permission interface is unchanged: every class of `rest_framework.permissions` works in a
daf_drf view, and is re-exported here. A permission's `has_permission` and
`has_object_permission` may be sync or `async def`, and DRF's operators `&`, `|` and `~`
(and adrf's async operators) may mix both. daf_drf evaluates them with DRF's semantics:
declared order, short-circuit on the first denial, and DRF's rule for `OR` object permissions.
A result is awaited whenever it is awaitable, so an async check never passes by being truthy.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import (
    AND,
    NOT,
    OR,
    SAFE_METHODS,
    AllowAny,
    BasePermission,
    DjangoModelPermissions,
    DjangoModelPermissionsOrAnonReadOnly,
    DjangoObjectPermissions,
    IsAdminUser,
    IsAuthenticated,
    IsAuthenticatedOrReadOnly,
    OperandHolder,
    SingleOperandHolder,
)

from daf_drf.hooks import HookNotAwaitable, call_hook, resolve_sync

__all__ = [
    "AND",
    "NOT",
    "OR",
    "SAFE_METHODS",
    "AllowAny",
    "BasePermission",
    "DjangoModelPermissions",
    "DjangoModelPermissionsOrAnonReadOnly",
    "DjangoObjectPermissions",
    "IsAdminUser",
    "IsAuthenticated",
    "IsAuthenticatedOrReadOnly",
    "OperandHolder",
    "SingleOperandHolder",
    "ahas_object_permission",
    "ahas_permission",
    "has_object_permission",
    "has_permission",
]


async def ahas_permission(permission: Any, request: Any, view: Any) -> bool:
    """Evaluate `permission.has_permission` on the event loop, composites included."""
    if isinstance(permission, AND):
        return await ahas_permission(permission.op1, request, view) and await ahas_permission(
            permission.op2, request, view
        )
    if isinstance(permission, OR):
        return await ahas_permission(permission.op1, request, view) or await ahas_permission(
            permission.op2, request, view
        )
    if isinstance(permission, NOT):
        return not await ahas_permission(permission.op1, request, view)
    method = getattr(permission, "ahas_permission", None) or permission.has_permission
    return bool(await call_hook(permission, method, request, view))


async def ahas_object_permission(permission: Any, request: Any, view: Any, obj: Any) -> bool:
    """Evaluate `permission.has_object_permission` on the event loop, composites included."""
    if isinstance(permission, AND):
        return await ahas_object_permission(
            permission.op1, request, view, obj
        ) and await ahas_object_permission(permission.op2, request, view, obj)
    if isinstance(permission, OR):
        # DRF (#6402): an operand grants object access only if it also grants view access.
        for operand in (permission.op1, permission.op2):
            if await ahas_permission(operand, request, view) and await ahas_object_permission(
                operand, request, view, obj
            ):
                return True
        return False
    if isinstance(permission, NOT):
        return not await ahas_object_permission(permission.op1, request, view, obj)
    method = (
        getattr(permission, "ahas_object_permission", None) or permission.has_object_permission
    )
    return bool(await call_hook(permission, method, request, view, obj))


def has_permission(permission: Any, request: Any, view: Any) -> bool:
    """
    Evaluate `permission.has_permission` from a sync call site (OPTIONS metadata, the
    browsable API, schema generation). Async checks are awaited from worker threads; on the
    event loop thread, where they cannot be awaited, the whole check is denied.
    """
    try:
        return _has_permission(permission, request, view)
    except HookNotAwaitable:
        return False


def has_object_permission(permission: Any, request: Any, view: Any, obj: Any) -> bool:
    """The sync-call-site twin of `ahas_object_permission`; denies what it can't await."""
    try:
        return _has_object_permission(permission, request, view, obj)
    except HookNotAwaitable:
        return False


def _has_permission(permission: Any, request: Any, view: Any) -> bool:
    if isinstance(permission, AND):
        return _has_permission(permission.op1, request, view) and _has_permission(
            permission.op2, request, view
        )
    if isinstance(permission, OR):
        return _has_permission(permission.op1, request, view) or _has_permission(
            permission.op2, request, view
        )
    if isinstance(permission, NOT):
        return not _has_permission(permission.op1, request, view)
    result = permission.has_permission(request, view)
    return bool(resolve_sync(result, what=f"{type(permission).__name__}.has_permission"))


def _has_object_permission(permission: Any, request: Any, view: Any, obj: Any) -> bool:
    if isinstance(permission, AND):
        return _has_object_permission(permission.op1, request, view, obj) and (
            _has_object_permission(permission.op2, request, view, obj)
        )
    if isinstance(permission, OR):
        return any(
            _has_permission(op, request, view) and _has_object_permission(op, request, view, obj)
            for op in (permission.op1, permission.op2)
        )
    if isinstance(permission, NOT):
        return not _has_object_permission(permission.op1, request, view, obj)
    result = permission.has_object_permission(request, view, obj)
    return bool(resolve_sync(result, what=f"{type(permission).__name__}.has_object_permission"))
