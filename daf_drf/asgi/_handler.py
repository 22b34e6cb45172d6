"""
The handler: `daf_drf.asgi.ASGIHandler` and `get_asgi_application()`, re-exported by
`daf_drf.asgi`.

Django's `ASGIHandler` with its three thread hops (`request_started`, `response.close()` and
`request_finished`) decided per request: on the event loop when the inline rules hold
(`daf_drf.asgi._rules`), through Django's stock hop otherwise, inside a copy of Django's
`handle()` (`daf_drf.asgi._handle`) that only runs when the fingerprint guard
(`daf_drf.asgi._guard`) found the Django code it was copied from. It lends requests that run
sync code a thread of its pool (`daf_drf.asgi._pool`) when one is configured, and lets the
known middleware run their hooks on the loop (`daf_drf.asgi._middleware`).
"""

from __future__ import annotations

import logging
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Protocol, cast

import django
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers import asgi as django_asgi
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from daf_drf.asgi._checks import DEFAULT_POOL_SIZE, connection_problem, pool_problem, pool_size
from daf_drf.asgi._guard import HANDLE_TASKGROUP, HANDLE_TASKS, Receiver, problems, verify
from daf_drf.asgi._handle import Handler, Receive, Scope, Send, handle_taskgroup, handle_tasks
from daf_drf.asgi._middleware import install, verified
from daf_drf.asgi._pool import ThreadPool
from daf_drf.asgi._rules import (
    RequestState,
    current_state,
    inline_receivers,
    loop_thread_clean,
    owns_context,
    send_inline,
    settled_connections,
    thread_bound,
)
from daf_drf.hooks import has_inline_safe_mark

__all__ = ["ASGIHandler", "get_asgi_application"]

logger = logging.getLogger("daf_drf.asgi")

_HandleCopy = Callable[[Handler, Scope, Receive, Send], Awaitable[None]]
_SHAPES: dict[str, _HandleCopy] = {
    HANDLE_TASKS: handle_tasks,
    HANDLE_TASKGROUP: handle_taskgroup,
}


class _ClosingState(Protocol):
    """`HttpResponseBase`'s private closing state, which django-stubs does not declare."""

    _resource_closers: list[Callable[[], object]]
    _handler_class: type


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

    Requests that do use sync code run it on a bounded pool of long-lived threads, one thread
    per request, `DAF_DRF["ASGI_THREAD_POOL_SIZE"]` (or `thread_pool_size`) of them, 8 by
    default: a process never holds more database connections than that per alias, whatever
    the load (see `docs/deployment.md` for the thread-local and `CONN_MAX_AGE` consequences).
    `0` opts out of reusing threads: each request gets a fresh thread, as with Django's stock
    handler, and still at most the default size of them run at once. Persistent database
    connections (`CONN_MAX_AGE` > 0) are refused with the opt-out (`daf_drf.E053`): they would
    accumulate, one per request thread, until the database refuses connections.

    `path_counts` counts which path requests took (`"inline"`, `"stock"`); each request is
    also logged at DEBUG level on the `daf_drf.asgi` logger.

    The pool's threads live as long as the process; a process that embeds the entry and
    outlives it (a test run, a server with a lifespan shutdown hook) stops them with
    `application.pool.close()` once the server sends no more requests (see
    `daf_drf.asgi._pool.ThreadPool.close`).
    """

    # Class-level defaults keep subclasses that skip `__init__` working (Django's
    # `ASGIStaticFilesHandler` wraps an application and never calls it).
    pool: ThreadPool | None = None
    _handle: _HandleCopy | None = None
    #: Class names of the middleware whose hooks run on the loop when their rule holds
    #: (`daf_drf.asgi._middleware`); empty if Django's middleware code is not the known one.
    inline_middleware: list[str] = []
    # Set by Django's `BaseHandler.load_middleware` (django-stubs does not declare them).
    _middleware_chain: Callable[[HttpRequest], object] | None
    _view_middleware: list[Callable[..., object]]

    def __init__(self, *, thread_pool_size: int | None = None) -> None:
        self._handle = _SHAPES[verify()]
        super().__init__()
        size = pool_size(thread_pool_size)
        problem = pool_problem(size) or connection_problem(size)
        if problem:
            raise ImproperlyConfigured(f"{problem[1]} ({problem[0]})")
        size = cast(int, size)  # `pool_problem` refused anything but an int >= 0
        # The opt-out (0): a fresh thread per request, at most the default size at once.
        self.pool: ThreadPool | None = (
            ThreadPool(size) if size else ThreadPool(DEFAULT_POOL_SIZE, reuse=False)
        )
        # A handler that is dropped (a test's, a reloaded application) stops its idle
        # threads; the pool holds no reference to the handler, so this can run.
        weakref.finalize(self, self.pool.close, 0)
        self.path_counts: Counter[str] = Counter()

    def load_middleware(self, is_async: bool = False) -> None:
        """Django's chain, then Django's own middleware hooks on the loop where provably same."""
        super().load_middleware(is_async=is_async)
        if is_async and verified():
            self.inline_middleware = install(self)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise ValueError(
                "Django can only handle ASGI/HTTP connections, not {}.".format(scope["type"])
            )
        state = RequestState(self.__class__)
        state.scope = scope
        token = current_state.set(state)
        try:
            pool = self.pool
            async with ThreadSensitiveContext() as context:
                if pool is None or not owns_context(context, state):
                    await self.handle(scope, receive, send)
                else:
                    await self._handle_pooled(pool, context, state, scope, receive, send)
        finally:
            current_state.reset(token)
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
        context: ThreadSensitiveContext,
        state: RequestState,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        # The request's context gets a pooled lease where asgiref keeps each context's
        # executor, so its thread-sensitive calls go to one pooled thread. The lease leaves
        # that registry when the request ends, before the context exits: asgiref then starts
        # no join thread, and a task that outlives the request (a fire-and-forget coroutine)
        # gets a thread of its own, as with the stock handler, never the pooled one.
        lease = state.lease = pool.lease(
            on_bind=state.run_pending_start, after_call=state.record_connections
        )
        registry = SyncToAsync.context_to_thread_executor
        registry[context] = lease
        try:
            await self.handle(scope, receive, send)
        finally:
            if registry.get(context) is lease:
                del registry[context]
            lease.release()

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        handle = self._handle
        if handle is None:
            handle = self._handle = _SHAPES[verify()]
        await handle(self, scope, receive, send)

    # --- the three hops of Django's handle() -------------------------------------------------

    async def astart_request(self, scope: Scope) -> None:
        """Send `request_started`: inline when provably equivalent, else `Signal.asend`."""
        state = current_state.get(None)
        receivers = inline_receivers(signals.request_started, self.__class__)
        if receivers is not None and not thread_bound(state) and loop_thread_clean():
            send_inline(signals.request_started, receivers, self.__class__, scope=scope)
            if state is not None:
                state.start = "inline"
                state.pending_start = receivers
            return
        await signals.request_started.asend(sender=self.__class__, scope=scope)

    async def aclose_response(
        self, response: HttpResponseBase, request: HttpRequest | None
    ) -> None:
        """`response.close()`: inline when provably equivalent, else in the request's thread."""
        state = current_state.get(None)
        inline = self._inline_close(response, request, state)
        if inline is None:
            await sync_to_async(response.close)()
            return
        receivers, settled = inline
        # `HttpResponseBase.close()`, statement for statement (fingerprinted), with the
        # connection receivers left out as on a fresh thread (see `send_inline`).
        closing = cast(_ClosingState, response)
        for closer in closing._resource_closers:
            with suppress(Exception):  # as Django does
                closer()
        closing._resource_closers.clear()
        response.closed = True
        send_inline(signals.request_finished, receivers, closing._handler_class)
        if settled:
            # `close_old_connections` on the request's idle pooled thread, which would close
            # none of them (`settled_connections`): its one effect.
            for conn in settled:
                conn.health_check_done = False  # type: ignore[attr-defined]
        if state is not None:
            state.finish = "inline"

    async def afinish_request(self) -> None:
        """`request_finished` for a cancelled request (no response to close)."""
        state = current_state.get(None)
        receivers = inline_receivers(signals.request_finished, self.__class__)
        if receivers is not None and not thread_bound(state) and loop_thread_clean():
            send_inline(signals.request_finished, receivers, self.__class__)
            if state is not None:
                state.finish = "inline"
            return
        await signals.request_finished.asend(sender=self.__class__)

    def _inline_close(
        self, response: HttpResponseBase, request: HttpRequest | None, state: RequestState | None
    ) -> tuple[list[Receiver], list[BaseDatabaseWrapper]] | None:
        """
        If `response.close()` may run inline: `request_finished`'s receivers and the open
        connections of the request's pooled thread (`settled_connections`); else `None`.
        """
        if response.streaming or type(response).close is not HttpResponseBase.close:
            return None
        closing = cast(_ClosingState, response)
        for closer in closing._resource_closers:
            # Django adds `request.close`; anything else (a file) may block or need a thread,
            # unless it is marked with `daf_drf.hooks.inline_safe` (pure, loop-safe).
            if request is not None and closer == request.close:
                continue
            if not has_inline_safe_mark(closer):
                return None
        if request is not None:
            if type(request).close is not django_asgi.ASGIRequest.close:
                return None
            if getattr(request, "_files", None):
                return None
        sender = closing._handler_class
        receivers = inline_receivers(signals.request_finished, sender)
        if receivers is None or not loop_thread_clean():
            return None
        if not thread_bound(state):
            return receivers, []
        settled = settled_connections(state)
        if settled is None:
            return None
        return receivers, settled


def get_asgi_application(
    *, thread_pool_size: int | None = None
) -> ASGIHandler | django_asgi.ASGIHandler:
    """
    Set Django up and return daf_drf's `ASGIHandler` (the drop-in for
    `django.core.asgi.get_asgi_application`).

    If the installed Django changed the handler code this entry was written against, it logs
    an error and returns Django's stock `ASGIHandler` instead (`daf_drf.W050`): a Django patch
    release must never stop a deployment, and the stock handler is always correct, only
    slower. Raises `ImproperlyConfigured` if the thread pool setting is invalid
    (`daf_drf.E051`, `E052`), or if it opts out of the pool (`0`) while a database keeps
    persistent connections (`CONN_MAX_AGE` > 0 or `None`: `daf_drf.E053`).
    """
    django.setup(set_prefix=False)
    variant, issues = problems()
    if issues or variant is None:
        logger.error(
            "daf_drf.asgi: %s. Serving with Django's stock ASGIHandler until daf_drf "
            "supports this Django release (daf_drf.W050).",
            "; ".join(issues) or f"Django {django.get_version()} is not supported",
        )
        return django_asgi.ASGIHandler()
    return ASGIHandler(thread_pool_size=thread_pool_size)
