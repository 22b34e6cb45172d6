"""
The hook rule: how daf_drf calls a hook that may be sync or async, and the one place that
decides whether a sync hook is pure.

A *hook* is any project-supplied callable that DRF calls during dispatch: an authenticator's
`authenticate`, a permission's `has_permission`, a throttle's `allow_request`, a generic
view's `get_queryset`, a renderer's `render`, the `EXCEPTION_HANDLER`. daf_drf calls each one
by the same rule:

1. The result decides, not the function type: whatever the call returns, if it is awaitable it
   is awaited. A decorated `async def has_permission` is therefore never mistaken for a truthy
   value.
2. A coroutine function is called on the event loop, and so is a `functools.wraps` decorator
   around one.
3. A sync function runs **inline** on the loop when it is known to be pure (no I/O): DRF's
   `AllowAny`, `IsAuthenticated`, `IsAdminUser`, `IsAuthenticatedOrReadOnly`, its forced test
   authentication, its default exception handler, `GenericAPIView`'s attribute-only hooks, its
   paginators' `get_paginated_response`, its JSON renderers; anything marked with
   `inline_safe`, anything passed to `register_inline_safe`, and anything listed in
   `DAF_DRF["INLINE_HOOKS"]`.
4. Any other sync function may do I/O (the ORM, the cache, a file), so it runs in exactly one
   `sync_to_async` hop, on the request's thread-sensitive executor.

Declare a sync hook pure with the decorator, on a class (all its hooks) or on one function:

    @inline_safe
    class HasAPIKeyHeader(BasePermission):
        def has_permission(self, request, view):
            return "x-api-key" in request.headers

or set `inline_safe = False` on a subclass of a pure class that adds I/O.

The surface, for daf_drf's own modules and for projects:

- `call_hook(owner, func, ...)` applies the rule; `is_inline_safe(owner, func)` is its purity
  decision (the mark, then the registry, then `INLINE_HOOKS`); `has_inline_safe_mark(obj)`
  reads only an explicit mark; `register_inline_safe(...)` adds to the registry.
- `overrides(obj, name, base)` answers "did the project replace `base`'s hook `name`?", and
  `project_override(view, name)` finds the project's implementation an async sibling should
  call, walking `super()` chains.
- `resolve_sync` and `answers_sync_callers` let async hooks answer DRF's sync call sites;
  `on_event_loop()` tells which side of that line the caller is on.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator
from types import FunctionType
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import async_to_sync, markcoroutinefunction, sync_to_async

from daf_drf.settings import daf_settings

__all__ = [
    "HookNotAwaitable",
    "answers_sync_callers",
    "call_hook",
    "has_inline_safe_mark",
    "inline_safe",
    "is_async_hook",
    "is_inline_safe",
    "is_noop",
    "on_event_loop",
    "overrides",
    "project_override",
    "pure_renderers",
    "register_inline_safe",
    "resolve_sync",
]

logger = logging.getLogger("daf_drf")

T = TypeVar("T")
P = ParamSpec("P")

# Modules whose classes are DRF's or daf_drf's own: anything else is the project's.
OWN_MODULES = ("daf_drf.", "rest_framework.")

# --- the registry of pure hooks ------------------------------------------------------------

_registered: set[object] = set()
_builtin: frozenset[object] | None = None
_renderers: frozenset[type] | None = None


def pure_renderers() -> frozenset[type]:
    """DRF's renderers read from its source: they encode `data` and touch nothing else."""
    global _renderers
    if _renderers is None:
        from rest_framework import renderers

        _renderers = frozenset(
            {renderers.JSONRenderer, renderers.StaticHTMLRenderer, renderers.JSONOpenAPIRenderer}
        )
    return _renderers


def _builtin_pure() -> frozenset[object]:
    """
    DRF's hooks that are pure, read from its source: they touch only the request object,
    settings and the view's attributes. Functions match wherever they are inherited; a class
    (the renderers) matches an instance of exactly that class.

    Built on first use, not at import: DRF resolves `DEFAULT_AUTHENTICATION_CLASSES` (which may
    name daf_drf's classes, whose modules import this one) while `rest_framework.views` is
    still being imported.
    """
    global _builtin
    if _builtin is None:
        from rest_framework import generics, mixins, pagination, permissions, views
        from rest_framework.request import ForcedAuthentication

        _builtin = frozenset(
            {
                permissions.BasePermission.has_permission,
                permissions.BasePermission.has_object_permission,
                permissions.AllowAny.has_permission,
                permissions.IsAuthenticated.has_permission,
                permissions.IsAdminUser.has_permission,
                permissions.IsAuthenticatedOrReadOnly.has_permission,
                ForcedAuthentication.authenticate,
                views.exception_handler,
                generics.GenericAPIView.get_queryset,
                generics.GenericAPIView.get_serializer_class,
                generics.GenericAPIView.get_serializer_context,
                mixins.CreateModelMixin.get_success_headers,
                pagination.PageNumberPagination.get_paginated_response,
                pagination.LimitOffsetPagination.get_paginated_response,
                pagination.CursorPagination.get_paginated_response,
                *pure_renderers(),
            }
        )
    return _builtin


def register_inline_safe(*objs: object) -> None:
    """
    Declare functions pure wherever they are used, and classes pure for their instances of
    exactly that class (a subclass may add I/O, so it is not covered): their sync hooks then
    run inline on the loop. For code you own, prefer the `inline_safe` decorator.
    """
    _registered.update(objs)


def inline_safe(obj: T) -> T:
    """
    Mark a sync hook (a class or a function) as pure, so that it runs inline on the loop.

    Only mark code that does no I/O: no ORM query, no cache or network call, no file access.
    """
    setattr(obj, "inline_safe", True)  # noqa: B010 (a class or a function: no typed attribute)
    return obj


def has_inline_safe_mark(obj: object) -> bool:
    """
    Whether `obj` itself is marked pure (`inline_safe` set to `True` on it), ignoring its
    owner, the registry and `INLINE_HOOKS`: for call sites that skip `call_hook` when the
    mark guarantees a plain value (daf_drf's own throttle hooks, a response's closers).
    A wrapper with a `func` attribute (a `functools.partial`) is judged by that function.
    """
    return getattr(getattr(obj, "func", obj), "inline_safe", False) is True


def is_inline_safe(owner: object, func: Callable[..., object]) -> bool:
    """
    Return whether the sync `func` (a hook of `owner`, `None` for a plain function) may run
    inline on the event loop: a mark on `func`, else on `owner`, decides (`False` opts out);
    then the registry, then `DAF_DRF["INLINE_HOOKS"]` (`func`, or `owner`'s class).
    """
    raw = getattr(func, "__func__", func)
    # A bound method reads its attributes from its function: read the function's own dict,
    # which is several times faster than `getattr` on the method (this runs per response).
    if type(raw) is FunctionType:
        flag = raw.__dict__.get("inline_safe")
    else:
        flag = getattr(func, "inline_safe", None)
    if flag is None and owner is not None:
        flag = getattr(owner, "inline_safe", None)
    if flag is not None:
        return bool(flag)
    pure = _builtin if _builtin is not None else _builtin_pure()
    if raw in pure or type(owner) in pure:
        return True
    if _registered and (raw in _registered or type(owner) in _registered):
        return True
    hashable, other = daf_settings.inline_hooks()
    if hashable and (raw in hashable or func in hashable or type(owner) in hashable):
        return True
    return bool(other) and (raw in other or func in other or type(owner) in other)


# --- calling a hook ------------------------------------------------------------------------


async def call_hook(
    owner: object, func: Callable[..., Any], *args: object, **kwargs: object
) -> Any:
    """
    Call `func(*args, **kwargs)` by daf_drf's hook rule and return its (awaited) result.

    `owner` is the object the hook belongs to (a permission instance, a throttle, a view ...),
    or `None` for a plain function such as an exception handler.
    """
    if is_async_hook(func) or is_inline_safe(owner, func):
        result = func(*args, **kwargs)
    else:
        result = await sync_to_async(func)(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def is_async_hook(func: Callable[..., object]) -> bool:
    """
    Whether `func` is called on the loop as a coroutine function: an `async def`, or a
    `functools.wraps` decorator around one (it returns the coroutine: calling it on the loop
    spares a thread hop that would only create that coroutine).
    """
    if inspect.iscoroutinefunction(func):
        return True
    try:
        return inspect.iscoroutinefunction(inspect.unwrap(func))
    except ValueError:  # a __wrapped__ cycle
        return False


def is_noop(func: object) -> bool:
    """
    Whether `func` is a body-less method, such as DRF's lazy-auth `perform_authentication`
    override or a `def enforce_csrf(self, request): return`: pure, so it runs inline.
    """
    code = getattr(getattr(func, "__func__", func), "__code__", None)
    return code is not None and code.co_code == _noop.__code__.co_code and not code.co_names


def _noop(self: object, request: object) -> None:
    pass


def on_event_loop() -> bool:
    """Whether an event loop runs in this thread (then sync code must not block or await)."""
    # `get_running_loop()` without its exception: this runs on every render and sync hook.
    return asyncio._get_running_loop() is not None


# --- which implementation of a hook runs ---------------------------------------------------


def overrides(obj: object, name: str, base: type) -> bool:
    """
    Whether `obj` replaced `base`'s hook `name`: assigned on the instance, or a class attribute
    other than `base`'s (a project's subclass, or a daf_drf subclass of a DRF base).
    """
    if name in getattr(obj, "__dict__", ()):
        return True
    return getattr(type(obj), name, None) is not getattr(base, name, None)


_INSTANCE = object()


@contextlib.contextmanager
def project_override(view: object, name: str) -> Iterator[Callable[..., Any] | None]:
    """
    Yield the project's implementation of the hook `name` that its async sibling should run
    now, or `None` when daf_drf's own (or DRF's) should run.

    On a first call that is the hook assigned on the instance, else the most derived override
    in the view's classes that is not DRF's or daf_drf's. From inside an override
    (`await super().aget_object()`), it is the next override along the MRO, and `None` once
    only DRF's and daf_drf's remain: a sibling called through `super()` never calls back the
    override that called it.
    """
    levels: dict[str, object] = view.__dict__.setdefault("_daf_hook_levels", {})
    current = levels.get(name)
    func: Callable[..., Any] | None = None
    owner: object = None
    if current is None and name in view.__dict__:
        func, owner = view.__dict__[name], _INSTANCE
    else:
        mro = type(view).__mro__
        start = mro.index(current) + 1 if isinstance(current, type) else 0
        for klass in mro[start:]:
            raw = vars(klass).get(name)
            if raw is None:
                continue
            if not klass.__module__.startswith(OWN_MODULES):
                get = getattr(raw, "__get__", None)
                func, owner = (get(view, type(view)) if get else raw), klass
            break
    if func is None:
        yield None
        return
    levels[name] = owner
    try:
        yield func
    finally:
        levels[name] = current


# --- async hooks at DRF's sync call sites ----------------------------------------------------


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


def answers_sync_callers(func: Callable[P, Awaitable[T]]) -> Callable[P, Any]:
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
    def hook(*args: P.args, **kwargs: P.kwargs) -> Any:
        result = func(*args, **kwargs)
        if on_event_loop():
            return result
        return resolve_sync(result, what=func.__qualname__)

    setattr(hook, "answers_sync_callers", True)  # noqa: B010 (read back with getattr)
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
    if on_event_loop():
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
