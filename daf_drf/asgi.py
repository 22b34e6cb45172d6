"""
An opt-in ASGI entry that serves async endpoints without Django's per-request thread cost.

Django's stock `ASGIHandler` makes every request start a thread (and, since asgiref 3.12, a
second one to join it) only to run Django's own `request_started`/`request_finished` receivers
and `response.close()` through `sync_to_async`. For an async view that never touches sync code
those receivers have nothing to do on that fresh thread. This handler runs them on the event
loop whenever that is provably the same, and takes Django's stock path otherwise.

Usage, in the project's `asgi.py`:

    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

    from daf_drf.asgi import get_asgi_application

    application = get_asgi_application()

See `docs/deployment.md` for when not to use it, the thread pool, and measurements.
"""

from __future__ import annotations

import contextvars
import logging
import weakref
from collections import Counter
from contextlib import suppress
from typing import Any

import asgiref
import django
from asgiref.sync import AsyncToSync, SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.cache import close_caches
from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers import asgi as django_asgi
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, connections, reset_queries
from django.http.response import HttpResponseBase

from daf_drf import _asgi_compat
from daf_drf._asgi_handle import handle_taskgroup, handle_tasks
from daf_drf._asgi_pool import Lease, ThreadPool
from daf_drf.settings import daf_settings

__all__ = ["ASGIHandler", "get_asgi_application"]

logger = logging.getLogger("daf_drf.asgi")

# Django's own receivers of `request_started` / `request_finished`. Read from their source (and
# fingerprinted by `_asgi_compat`): they act only on database connections of the calling
# thread (thread-critical) and on context-local caches and urlconf. On a thread that holds no
# connection, running them on the loop is exactly what the stock path does on a fresh thread.
DJANGO_RECEIVERS = frozenset({reset_queries, close_old_connections, close_caches, reset_urlconf})

_SHAPES = {_asgi_compat.HANDLE_TASKS: handle_tasks, _asgi_compat.HANDLE_TASKGROUP: handle_taskgroup}


class _RequestState:
    __slots__ = ("finish", "lease", "pending_start", "scope", "sender", "start", "sync_caller")

    def __init__(self, sender: type) -> None:
        self.sender = sender
        self.lease: Lease | None = None
        self.pending_start: list[Any] = []
        self.scope: Any = None
        self.start = "stock"
        self.finish = "stock"
        # Called from sync code (`async_to_sync`): that caller's thread serves the request.
        self.sync_caller = getattr(AsyncToSync.executors, "current", None) is not None

    def run_pending_start(self) -> None:
        # Pool mode: the start-of-request receivers that ran on the loop (where they found
        # nothing) run again on the pooled thread when the request binds it, because that
        # thread may hold a persistent connection from an earlier request.
        for receiver in self.pending_start:
            receiver(signal=signals.request_started, sender=self.sender, scope=self.scope)


_state: contextvars.ContextVar[_RequestState] = contextvars.ContextVar("daf_drf_asgi_request")


# (signal id, sender) -> (receiver keys it was computed for, verdict). A verdict that allows
# the inline path names only Django's own functions, which live as long as the process, so
# their ids cannot be reused by another receiver while the entry is valid.
_verdicts: dict[tuple[int, Any], tuple[tuple[Any, ...], list[Any] | None]] = {}


def _inline_receivers(signal: Any, sender: Any) -> list[Any] | None:
    """The signal's receivers if all are Django's own sync ones, else `None`."""
    receivers = signal.receivers
    if not receivers:
        return []
    keys = tuple(entry[0] for entry in receivers)
    cached = _verdicts.get((id(signal), sender))
    if cached is not None and cached[0] == keys and not signal._dead_receivers:
        return cached[1]
    sync_receivers, async_receivers = signal._live_receivers(sender)
    verdict: list[Any] | None = list(sync_receivers)
    if async_receivers or any(r not in DJANGO_RECEIVERS for r in sync_receivers):
        verdict = None
    _verdicts[(id(signal), sender)] = (keys, verdict)
    return verdict


def _thread_bound(state: _RequestState | None) -> bool:
    """Whether this request's thread-sensitive work already has a thread."""
    if state is None:
        sync_caller = getattr(AsyncToSync.executors, "current", None) is not None
    else:
        sync_caller = state.sync_caller
    if sync_caller:
        # Called from sync code (a test's `async_to_sync`): thread-sensitive work runs on
        # that parent thread, which may hold connections.
        return True
    if state is not None and state.lease is not None:
        return state.lease.bound
    context = SyncToAsync.thread_sensitive_context.get(None)
    return context is None or context in SyncToAsync.context_to_thread_executor


def _owns_context(context: ThreadSensitiveContext, state: _RequestState) -> bool:
    """Whether `context` decides this request's thread (the pool may then lend one)."""
    if state.sync_caller:
        # A sync caller's thread serves the request (a test's transaction lives there).
        return False
    # Nested in an outer ThreadSensitiveContext, the outer one decides.
    return SyncToAsync.thread_sensitive_context.get(None) is context


def _loop_thread_clean() -> bool:
    # A connection opened on the loop thread (at import time, say) must stay with the stock
    # path: the receivers would act on it here but not on a fresh thread. A wrapper object
    # with no connection and no logged queries is what a fresh thread has too.
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None or conn.queries_log:
            return False
    return True


class ASGIHandler(django_asgi.ASGIHandler):
    """
    Django's `ASGIHandler`, without the per-request thread when a request does not need one.

    Per request, Django's own `request_started` and `request_finished` receivers
    (`reset_queries`, `close_old_connections`, `close_caches`, `reset_urlconf`) and
    `response.close()` run on the event loop when all of these hold, and through Django's
    stock `sync_to_async` hop otherwise:

    - only Django's own receivers are connected (a third-party receiver forces the stock path
      for that signal, and it still runs as Django runs it);
    - the request has not bound a thread-sensitive thread yet (no sync middleware, sync
      receiver or `sync_to_async` call so far), and the loop thread holds no DB connection;
    - the response is not streaming, has no resource closers except the request's own (or
      closers marked with `daf_drf.hooks.inline_safe`), and the request has no uploaded files
      to close.

    Guarantees: database connections are checked and closed in the thread that owns them; a
    request's thread-sensitive work stays on one thread; middleware, disconnects
    (`http.disconnect` cancels the view), body limits and the script prefix behave as stock,
    because everything else is Django's own code.

    `thread_pool_size` (or `DAF_DRF["ASGI_THREAD_POOL_SIZE"]`) opts into a bounded pool of
    long-lived threads for requests that do use sync code (see `docs/deployment.md` for the
    thread-local and `CONN_MAX_AGE` consequences).

    `path_counts` counts which path requests took (`"inline"`, `"stock"`); each request is
    also logged at DEBUG level on the `daf_drf.asgi` logger.
    """

    # Class-level defaults keep subclasses that skip `__init__` working (Django's
    # `ASGIStaticFilesHandler` wraps an application and never calls it).
    pool: ThreadPool | None = None
    _handle: Any = None

    def __init__(self, *, thread_pool_size: int | None = None) -> None:
        self._handle = _SHAPES[_asgi_compat.verify()]
        super().__init__()
        size = daf_settings.ASGI_THREAD_POOL_SIZE if thread_pool_size is None else thread_pool_size
        problem = _pool_problem(size)
        if problem:
            raise ImproperlyConfigured(f"{problem[1]} ({problem[0]})")
        self.pool: ThreadPool | None = ThreadPool(size) if size else None
        self.path_counts: Counter[str] = Counter()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(
                "Django can only handle ASGI/HTTP connections, not {}.".format(scope["type"])
            )
        state = _RequestState(self.__class__)
        state.scope = scope
        token = _state.set(state)
        try:
            pool = self.pool
            async with ThreadSensitiveContext() as context:
                if pool is None or not _owns_context(context, state):
                    await self.handle(scope, receive, send)
                else:
                    await self._handle_pooled(pool, context, state, scope, receive, send)
        finally:
            _state.reset(token)
            path = "inline" if state.start == state.finish == "inline" else "stock"
            counts: Counter[str] = self.__dict__.setdefault("path_counts", Counter())
            counts[path] += 1
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "%s %s took the %s path (request_started: %s, request_finished: %s)",
                    scope.get("method"),
                    scope.get("path"),
                    path,
                    state.start,
                    state.finish,
                )

    async def _handle_pooled(
        self,
        pool: ThreadPool,
        context: Any,
        state: _RequestState,
        scope: Any,
        receive: Any,
        send: Any,
    ) -> None:
        # The request's context gets a pooled lease where asgiref keeps each context's
        # executor, so its thread-sensitive calls go to one pooled thread. The lease leaves
        # that registry when the request ends, before the context exits: asgiref then starts
        # no join thread, and a task that outlives the request (a fire-and-forget coroutine)
        # gets a thread of its own, as with the stock handler, never the pooled one.
        lease = state.lease = pool.lease(on_bind=state.run_pending_start)
        registry = SyncToAsync.context_to_thread_executor
        registry[context] = lease
        try:
            await self.handle(scope, receive, send)
        finally:
            if registry.get(context) is lease:
                del registry[context]
            lease.release()

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        handle = self._handle
        if handle is None:
            handle = self._handle = _SHAPES[_asgi_compat.verify()]
        await handle(self, scope, receive, send)

    # --- the three hops of Django's handle() -------------------------------------------------

    async def astart_request(self, scope: Any) -> None:
        """Send `request_started`: inline when provably equivalent, else `Signal.asend`."""
        state = _state.get(None)
        receivers = _inline_receivers(signals.request_started, self.__class__)
        if receivers is not None and not _thread_bound(state) and _loop_thread_clean():
            _send_inline(signals.request_started, receivers, self.__class__, scope=scope)
            if state is not None:
                state.start = "inline"
                state.pending_start = receivers
            return
        await signals.request_started.asend(sender=self.__class__, scope=scope)

    async def aclose_response(self, response: HttpResponseBase, request: Any) -> None:
        """`response.close()`: inline when provably equivalent, else in the request's thread."""
        state = _state.get(None)
        receivers = self._inline_close_receivers(response, request, state)
        if receivers is None:
            await sync_to_async(response.close)()
            return
        # `HttpResponseBase.close()`, statement for statement (fingerprinted), with the
        # connection receivers left out as on a fresh thread (see `_send_inline`).
        for closer in response._resource_closers:  # type: ignore[attr-defined]
            with suppress(Exception):  # as Django does
                closer()
        response._resource_closers.clear()  # type: ignore[attr-defined]
        response.closed = True
        _send_inline(signals.request_finished, receivers, response._handler_class)  # type: ignore[attr-defined]
        if state is not None:
            state.finish = "inline"

    async def afinish_request(self) -> None:
        """`request_finished` for a cancelled request (no response to close)."""
        state = _state.get(None)
        receivers = _inline_receivers(signals.request_finished, self.__class__)
        if receivers is not None and not _thread_bound(state) and _loop_thread_clean():
            _send_inline(signals.request_finished, receivers, self.__class__)
            if state is not None:
                state.finish = "inline"
            return
        await signals.request_finished.asend(sender=self.__class__)

    def _inline_close_receivers(
        self, response: HttpResponseBase, request: Any, state: _RequestState | None
    ) -> list[Any] | None:
        """`request_finished`'s receivers if `response.close()` may run inline, else `None`."""
        if response.streaming or type(response).close is not HttpResponseBase.close:
            return None
        for closer in response._resource_closers:  # type: ignore[attr-defined]
            # Django adds `request.close`; anything else (a file) may block or need a thread,
            # unless it is marked with `daf_drf.hooks.inline_safe` (pure, loop-safe).
            if request is not None and closer == request.close:
                continue
            if getattr(getattr(closer, "func", closer), "inline_safe", False) is not True:
                return None
        if request is not None:
            if type(request).close is not django_asgi.ASGIRequest.close:
                return None
            if getattr(request, "_files", None):
                return None
        sender = response._handler_class  # type: ignore[attr-defined]
        receivers = _inline_receivers(signals.request_finished, sender)
        if receivers is None or _thread_bound(state) or not _loop_thread_clean():
            return None
        return receivers


# On the stock path these run on a thread that holds no connection, where they touch nothing;
# the inline path runs only when the loop thread holds none either, so they are skipped.
_CONNECTION_RECEIVERS = frozenset({reset_queries, close_old_connections})


def _send_inline(signal: Any, receivers: list[Any], sender: Any, **named: Any) -> None:
    """Call Django's own receivers as `Signal.send` would, minus the no-op connection ones."""
    for receiver in receivers:
        if receiver not in _CONNECTION_RECEIVERS:
            receiver(signal=signal, sender=sender, **named)


def _pool_problem(size: Any) -> tuple[str, str] | None:
    """(check id, message) if the thread pool setting cannot work, else `None`."""
    if size is None or size == 0:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return "daf_drf.E051", (
            f'DAF_DRF["ASGI_THREAD_POOL_SIZE"] is {size!r}; expected None, 0 (no pool) or a '
            "positive int."
        )
    registry = getattr(SyncToAsync, "context_to_thread_executor", None)
    if not isinstance(registry, weakref.WeakKeyDictionary):
        return "daf_drf.E052", (
            f"asgiref {asgiref.__version__} no longer keeps a per-context executor registry "
            "(SyncToAsync.context_to_thread_executor), which daf_drf.asgi's thread pool uses."
        )
    return None


def get_asgi_application(*, thread_pool_size: int | None = None) -> ASGIHandler:
    """
    Set Django up and return daf_drf's `ASGIHandler` (the drop-in for
    `django.core.asgi.get_asgi_application`).

    Raises `ImproperlyConfigured` if the installed Django changed the handler code this entry
    was written against (`daf_drf.E050`), or if the thread pool setting is invalid.
    """
    django.setup(set_prefix=False)
    return ASGIHandler(thread_pool_size=thread_pool_size)


@register()
def check_asgi(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """daf_drf.E050-E052: the entry can run on this Django and asgiref, with these settings."""
    messages: list[CheckMessage] = []
    _variant, issues = _asgi_compat.problems()
    for issue in issues:
        messages.append(
            Error(
                issue,
                hint="Use django.core.asgi.get_asgi_application() until daf_drf supports "
                "this Django version.",
                id="daf_drf.E050",
            )
        )
    problem = _pool_problem(daf_settings.ASGI_THREAD_POOL_SIZE)
    if problem:
        messages.append(Error(problem[1], id=problem[0]))
    return messages
