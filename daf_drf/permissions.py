"""
Permissions for daf_drf views.

DRF's permission interface is unchanged: every class of `rest_framework.permissions` works in a
daf_drf view, and is re-exported here. A permission's `has_permission` and
`has_object_permission` may be sync or `async def` (or come with `ahas_permission` /
`ahas_object_permission` siblings), and DRF's operators `&`, `|` and `~` (and adrf's `AAND`,
`AOR`, `ANOT`) may mix both. daf_drf evaluates them with DRF's semantics: declared order,
short-circuit on the first denial, and DRF's rule for `OR` object permissions (#6402).

Never fail open: a result is awaited whenever it is awaitable, whatever the method looks like,
so a decorated `async def has_permission` or a sync method returning a coroutine is evaluated,
never taken as truthy. DRF's sync call sites (OPTIONS metadata, the browsable API, the schema
generator) await async checks from worker threads and deny them on the event loop thread.

Which sync checks run inline on the loop, and which in a thread hop, is `daf_drf.hooks`' rule:
DRF's `AllowAny`, `IsAuthenticated`, `IsAdminUser` and `IsAuthenticatedOrReadOnly` inline;
any other sync check in one `sync_to_async` hop (it may query the database, as DRF's
`DjangoModelPermissions` does), unless it is declared inline-safe.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

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

from daf_drf.exceptions import UserNotLoaded
from daf_drf.hooks import HookNotAwaitable, call_hook, inline_safe, resolve_sync

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from rest_framework.request import Request as DRFRequest
    from rest_framework.views import APIView

    from daf_drf.request import Request

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
    "inline_safe",
]

logger = logging.getLogger("daf_drf")

# Operators whose methods daf_drf evaluates itself, operand by operand: DRF's and adrf's (whose
# `AAND`/`AOR`/`ANOT` subclass DRF's with the same semantics). A project's subclass of `AND`
# that overrides a method is called like any other permission.
_OPERATOR_MODULES = frozenset({"rest_framework.permissions", "adrf.permissions"})

# A permission is duck-typed, as in DRF: anything with `has_permission` and
# `has_object_permission` (sync or async) or daf_drf's `ahas_*` siblings, DRF's and adrf's
# operators included. DRF types only the sync methods, so a permission whose methods are
# called is `Any` here, and `object` where it is only inspected.
Method = Callable[..., object]


def _operator(permission: object, name: str) -> str | None:
    """`"and"`, `"or"` or `"not"` if `permission.<name>` is a known operator's, else `None`."""
    if not isinstance(permission, AND | OR | NOT):
        return None
    method = getattr(type(permission), name, None)
    if getattr(method, "__module__", None) not in _OPERATOR_MODULES:
        return None
    if isinstance(permission, AND):
        return "and"
    return "or" if isinstance(permission, OR) else "not"


def _await_view_queryset(permission: object) -> None:
    """
    Let DRF's model permissions work with an `async def get_queryset`.

    `DjangoModelPermissions` and its subclasses read the model from `view.get_queryset()`,
    which is then a coroutine (`'coroutine' object has no attribute 'model'`: a 500). They may
    query, so they run in a worker thread, where the coroutine can be awaited: wrap this
    instance's `_queryset` to do that (instances are made per request by `get_permissions()`;
    the wrapper is idempotent for shared ones).
    """
    if not isinstance(permission, DjangoModelPermissions):
        return
    drf_queryset = permission._queryset
    if getattr(drf_queryset, "awaits_queryset", False):
        return

    def _queryset(view: APIView) -> QuerySet[Any]:
        queryset: QuerySet[Any] = resolve_sync(
            drf_queryset(view), what=f"{type(view).__qualname__}.get_queryset"
        )
        # DRF's own check, which an `async def get_queryset` passes with its coroutine.
        assert queryset is not None, f"{view.__class__.__name__}.get_queryset() returned None"
        return queryset

    _queryset.awaits_queryset = True  # type: ignore[attr-defined]
    permission._queryset = _queryset  # type: ignore[method-assign]


def _decision(permission: object, method: Method, result: object) -> bool:
    """
    DRF's reading of a permission's answer, `bool(result)`, except for answers that cannot be
    a decision: an async generator (an `async def` with `yield`), a generator, a
    `concurrent.futures.Future` or an uncalled function. DRF would grant them; daf_drf denies
    and logs an error naming the class and method, because it never fails open.
    """
    if (
        inspect.isasyncgen(result)
        or inspect.isgenerator(result)
        or isinstance(result, concurrent.futures.Future)
        or inspect.isroutine(result)
    ):
        logger.error(
            "daf_drf: %s.%s returned %r, which is not a decision (a permission returns a bool, "
            "or is `async def` without `yield`); the check is denied.",
            type(permission).__qualname__,
            getattr(method, "__name__", "has_permission"),
            result,
        )
        return False
    return bool(result)


# --- on the event loop -------------------------------------------------------------------------


async def ahas_permission(permission: Any, request: Request, view: APIView) -> bool:
    """Evaluate `permission.has_permission` on the event loop, composites included."""
    op = _operator(permission, "has_permission")
    if op == "and":
        return await ahas_permission(permission.op1, request, view) and await ahas_permission(
            permission.op2, request, view
        )
    if op == "or":
        return await ahas_permission(permission.op1, request, view) or await ahas_permission(
            permission.op2, request, view
        )
    if op == "not":
        return not await ahas_permission(permission.op1, request, view)
    method = getattr(permission, "ahas_permission", None) or permission.has_permission
    return await _acall(permission, method, request, view)


async def ahas_object_permission(
    permission: Any, request: Request, view: APIView, obj: object
) -> bool:
    """Evaluate `permission.has_object_permission` on the event loop, composites included."""
    op = _operator(permission, "has_object_permission")
    if op == "and":
        return await ahas_object_permission(
            permission.op1, request, view, obj
        ) and await ahas_object_permission(permission.op2, request, view, obj)
    if op == "or":
        # DRF (#6402): an operand grants object access only if it also grants view access.
        for operand in (permission.op1, permission.op2):
            if await ahas_permission(operand, request, view) and await ahas_object_permission(
                operand, request, view, obj
            ):
                return True
        return False
    if op == "not":
        return not await ahas_object_permission(permission.op1, request, view, obj)
    method = getattr(permission, "ahas_object_permission", None) or permission.has_object_permission
    return await _acall(permission, method, request, view, obj)


async def _acall(permission: object, method: Method, request: Request, *args: object) -> bool:
    _await_view_queryset(permission)
    try:
        result = await call_hook(permission, method, request, *args)
    except UserNotLoaded:
        # DRF's lazy authentication: an inline check read `request.user` before the request
        # was authenticated. Authenticate on the loop, as DRF would on first access, and
        # ask again.
        if getattr(request, "auser", None) is None or request._authenticated():
            raise
        await request.auser()
        result = await call_hook(permission, method, request, *args)
    # An awaitable that resolves to another awaitable is still not a decision.
    while inspect.isawaitable(result):
        result = await result
    return _decision(permission, method, result)


# --- at DRF's sync call sites ---------------------------------------------------------------------


def has_permission(permission: Any, request: DRFRequest, view: APIView) -> bool:
    """
    Evaluate `permission.has_permission` from a sync call site (OPTIONS metadata, the
    browsable API, schema generation). Async checks are awaited from worker threads; on the
    event loop thread, where they cannot be awaited, the whole check is denied.
    """
    try:
        return _has_permission(permission, request, view)
    except HookNotAwaitable:
        return False


def has_object_permission(permission: Any, request: DRFRequest, view: APIView, obj: object) -> bool:
    """The sync-call-site twin of `ahas_object_permission`; denies what it can't await."""
    try:
        return _has_object_permission(permission, request, view, obj)
    except HookNotAwaitable:
        return False


def _has_permission(permission: Any, request: DRFRequest, view: APIView) -> bool:
    op = _operator(permission, "has_permission")
    if op == "and":
        return _has_permission(permission.op1, request, view) and _has_permission(
            permission.op2, request, view
        )
    if op == "or":
        return _has_permission(permission.op1, request, view) or _has_permission(
            permission.op2, request, view
        )
    if op == "not":
        # A check that can't be awaited here raises HookNotAwaitable, so `not` never
        # turns it into a grant.
        return not _has_permission(permission.op1, request, view)
    method = _sync_method(permission, "has_permission")
    return _resolve(permission, method, request, view)


def _has_object_permission(
    permission: Any, request: DRFRequest, view: APIView, obj: object
) -> bool:
    op = _operator(permission, "has_object_permission")
    if op == "and":
        return _has_object_permission(permission.op1, request, view, obj) and (
            _has_object_permission(permission.op2, request, view, obj)
        )
    if op == "or":
        return any(
            _has_permission(operand, request, view)
            and _has_object_permission(operand, request, view, obj)
            for operand in (permission.op1, permission.op2)
        )
    if op == "not":
        return not _has_object_permission(permission.op1, request, view, obj)
    method = _sync_method(permission, "has_object_permission")
    return _resolve(permission, method, request, view, obj)


def _sync_method(permission: object, name: str) -> Method:
    # A class that implements only `ahas_permission` inherits BasePermission's
    # `has_permission`, which grants: use the async sibling instead of that default.
    sibling: Method | None = getattr(permission, "a" + name, None)
    if sibling is not None and getattr(type(permission), name, None) is getattr(
        BasePermission, name
    ):
        return sibling
    method: Method = getattr(permission, name)
    return method


def _resolve(permission: object, method: Method, *args: object) -> bool:
    what = f"{type(permission).__name__}.{getattr(method, '__name__', 'has_permission')}"
    _await_view_queryset(permission)
    result = method(*args)
    while inspect.isawaitable(result):
        result = resolve_sync(result, what=what)
    return _decision(permission, method, result)
