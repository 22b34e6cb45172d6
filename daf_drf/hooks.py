"""
How daf_drf calls a hook that may be sync or async.

A *hook* is any project-supplied callable that DRF calls during dispatch: an authenticator's
`authenticate`, a permission's `has_permission`, a throttle's `allow_request`, the
`EXCEPTION_HANDLER`. daf_drf calls each one by the same rule:

1. The result decides, not the function type: whatever the call returns, if it is awaitable it
   is awaited. A decorated `async def has_permission` is therefore never mistaken for a truthy
   value.
2. A coroutine function is called on the event loop, and so is a `functools.wraps` decorator
   around one.
3. A sync function runs **inline** on the loop when it is known to be pure (no I/O): DRF's
   `AllowAny`, `IsAuthenticated`, `IsAdminUser`, `IsAuthenticatedOrReadOnly`, its forced test
   authentication and its default exception handler, anything marked with `inline_safe`, and
   anything listed in `DAF_DRF["INLINE_HOOKS"]`.
4. Any other sync function may do I/O (the ORM, the cache, a file), so it runs in exactly one
   `sync_to_async` hop, on the request's thread-sensitive executor.

Declare a sync hook pure with the decorator, on a class (all its hooks) or on one function:

    @inline_safe
    class HasAPIKeyHeader(BasePermission):
        def has_permission(self, request, view):
            return "x-api-key" in request.headers

or set `inline_safe = False` on a subclass of a pure class that adds I/O.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, markcoroutinefunction, sync_to_async

from daf_drf.settings import daf_settings

__all__ = [
    "HookNotAwaitable",
    "answers_sync_callers",
    "call_hook",
    "inline_safe",
    "is_inline_safe",
    "resolve_sync",
]

logger = logging.getLogger("daf_drf")

T = TypeVar("T")

_pure_functions: frozenset[Callable[..., Any]] | None = None


def _pure() -> frozenset[Callable[..., Any]]:
    """
    DRF's functions read from its source: they touch only the request object and settings.

    Built on first use, not at import: DRF resolves `DEFAULT_AUTHENTICATION_CLASSES` (which may
    name daf_drf's classes, whose modules import this one) while `rest_framework.views` is
    still being imported.
    """
    global _pure_functions
    if _pure_functions is None:
        from rest_framework import permissions as drf_permissions
        from rest_framework import views as drf_views
        from rest_framework.request import ForcedAuthentication

        _pure_functions = frozenset(
            {
                drf_permissions.BasePermission.has_permission,
                drf_permissions.BasePermission.has_object_permission,
                drf_permissions.AllowAny.has_permission,
                drf_permissions.IsAuthenticated.has_permission,
                drf_permissions.IsAdminUser.has_permission,
                drf_permissions.IsAuthenticatedOrReadOnly.has_permission,
                ForcedAuthentication.authenticate,
                drf_views.exception_handler,
            }
        )
    return _pure_functions


def inline_safe(obj: T) -> T:
    """
    Mark a sync hook (a class or a function) as pure, so that it runs inline on the loop.

    Only mark code that does no I/O: no ORM query, no cache or network call, no file access.
    """
    obj.inline_safe = True  # type: ignore[attr-defined]
    return obj


def is_inline_safe(owner: object, func: Callable[..., Any]) -> bool:
    """Return whether the sync `func` (a hook of `owner`) may run inline on the event loop."""
    flag = getattr(func, "inline_safe", None)
    if flag is None and owner is not None:
        flag = getattr(owner, "inline_safe", None)
    if flag is not None:
        return bool(flag)
    raw = getattr(func, "__func__", func)
    if raw in _pure():
        return True
    hashable, other = daf_settings.inline_hooks()
    if hashable and (raw in hashable or func in hashable or type(owner) in hashable):
        return True
    return bool(other) and (raw in other or func in other or type(owner) in other)


async def call_hook(owner: object, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """
    Call `func(*args, **kwargs)` by daf_drf's hook rule and return its (awaited) result.

    `owner` is the object the hook belongs to (a permission instance, a throttle, ...), or
    `None` for a plain function such as an exception handler.
    """
    if _is_async(func) or is_inline_safe(owner, func):
        result = func(*args, **kwargs)
    else:
        result = await sync_to_async(func)(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def _is_async(func: Callable[..., Any]) -> bool:
    # A decorator made with `functools.wraps` around an `async def` returns its coroutine:
    # call it on the loop instead of spending a thread hop to create a coroutine.
    if inspect.iscoroutinefunction(func):
        return True
    try:
        return inspect.iscoroutinefunction(inspect.unwrap(func))
    except ValueError:  # a __wrapped__ cycle
        return False


def _is_noop(func: Any) -> bool:
    """
    Whether `func` is a body-less method, such as DRF's lazy-auth `perform_authentication`
    override or a `def enforce_csrf(self, request): return`: pure, so it runs inline.
    """
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    return code is not None and code.co_code == _noop.__code__.co_code and not code.co_names


def _noop(self: Any, request: Any) -> None:
    pass


def _loop_running_here() -> bool:
    # `get_running_loop()` without its exception: this runs on every render and sync hook.
    return asyncio._get_running_loop() is not None


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def answers_sync_callers(func: Callable[..., Any]) -> Callable[..., Any]:
    """
    Wrap the `async def` hook `func` so that DRF's sync call sites get its value.

    On the event loop the wrapper returns `func`'s coroutine, exactly as before. Called from
    sync code (the browsable API in its worker thread, a schema generator, django-filter's
    form, DRF's metadata), it awaits that coroutine through `async_to_sync` and returns the
    value. It still looks like a coroutine function to asgiref, Django and daf_drf's hook rule.
    """
    if getattr(func, "answers_sync_callers", False):
        return func

    @functools.wraps(func)
    def hook(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        if _loop_running_here():
            return result
        return resolve_sync(result, what=func.__qualname__)

    hook.answers_sync_callers = True  # type: ignore[attr-defined]
    return markcoroutinefunction(hook)


class HookNotAwaitable(RuntimeError):
    """An async hook met a sync call site on the event loop thread, where it can't be awaited."""


def resolve_sync(result: Any, *, what: str) -> Any:
    """
    Turn the result of a hook called from one of DRF's *sync* call sites into a plain value.

    An awaitable result is awaited through `async_to_sync` when no event loop runs in this
    thread (a worker thread, or a WSGI request). On the event loop thread it cannot be awaited,
    so it is closed and `HookNotAwaitable` is raised; callers turn that into a denial, so a
    coroutine is never taken as a truthy value (not even under `~`).
    """
    if not inspect.isawaitable(result):
        return result
    if _loop_running_here():
        close = getattr(result, "close", None)
        if close is not None:
            close()
        logger.warning(
            "daf_drf: %s returned an awaitable at a sync call site on the event loop; "
            "it cannot be awaited there, so the check is denied.",
            what,
        )
        raise HookNotAwaitable(what)
    return async_to_sync(_await)(result)
