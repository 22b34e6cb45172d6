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

import logging
import weakref
from collections import Counter
from contextlib import suppress
from typing import Any

import asgiref
import django
from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers import asgi as django_asgi
from django.http.response import HttpResponseBase

from daf_drf import _asgi_compat
from daf_drf._asgi_handle import handle_taskgroup, handle_tasks
from daf_drf._asgi_pool import ThreadPool
from daf_drf._asgi_rules import (
    RequestState,
    current_state,
    inline_receivers,
    loop_thread_clean,
    owns_context,
    send_inline,
    thread_bound,
)
from daf_drf.settings import DEFAULTS, daf_settings

__all__ = ["ASGIHandler", "get_asgi_application"]

logger = logging.getLogger("daf_drf.asgi")

_SHAPES = {_asgi_compat.HANDLE_TASKS: handle_tasks, _asgi_compat.HANDLE_TASKGROUP: handle_taskgroup}


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
    """

    # Class-level defaults keep subclasses that skip `__init__` working (Django's
    # `ASGIStaticFilesHandler` wraps an application and never calls it).
    pool: ThreadPool | None = None
    _handle: Any = None
    #: Class names of the middleware whose hooks run on the loop when their rule holds
    #: (`daf_drf._asgi_middleware`); empty if Django's middleware code is not the known one.
    inline_middleware: list[str] = []

    def __init__(self, *, thread_pool_size: int | None = None) -> None:
        self._handle = _SHAPES[_asgi_compat.verify()]
        super().__init__()
        size = _pool_size(thread_pool_size)
        problem = _pool_problem(size) or _connection_problem(size)
        if problem:
            raise ImproperlyConfigured(f"{problem[1]} ({problem[0]})")
        # The opt-out (0): a fresh thread per request, at most the default size at once.
        self.pool: ThreadPool | None = (
            ThreadPool(size) if size else ThreadPool(_DEFAULT_POOL_SIZE, reuse=False)
        )
        self.path_counts: Counter[str] = Counter()

    def load_middleware(self, is_async: bool = False) -> None:
        """Django's chain, then Django's own middleware hooks on the loop where provably same."""
        super().load_middleware(is_async=is_async)
        # Imported here: it imports Django's middleware and session models, which need
        # settings and the app registry (this module may be imported before either).
        from daf_drf import _asgi_middleware

        if is_async and _asgi_middleware.verified():
            self.inline_middleware = _asgi_middleware.install(self)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
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
        context: Any,
        state: RequestState,
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
        state = current_state.get(None)
        receivers = inline_receivers(signals.request_started, self.__class__)
        if receivers is not None and not thread_bound(state) and loop_thread_clean():
            send_inline(signals.request_started, receivers, self.__class__, scope=scope)
            if state is not None:
                state.start = "inline"
                state.pending_start = receivers
            return
        await signals.request_started.asend(sender=self.__class__, scope=scope)

    async def aclose_response(self, response: HttpResponseBase, request: Any) -> None:
        """`response.close()`: inline when provably equivalent, else in the request's thread."""
        state = current_state.get(None)
        receivers = self._inline_close_receivers(response, request, state)
        if receivers is None:
            await sync_to_async(response.close)()
            return
        # `HttpResponseBase.close()`, statement for statement (fingerprinted), with the
        # connection receivers left out as on a fresh thread (see `send_inline`).
        for closer in response._resource_closers:  # type: ignore[attr-defined]
            with suppress(Exception):  # as Django does
                closer()
        response._resource_closers.clear()  # type: ignore[attr-defined]
        response.closed = True
        send_inline(signals.request_finished, receivers, response._handler_class)  # type: ignore[attr-defined]
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

    def _inline_close_receivers(
        self, response: HttpResponseBase, request: Any, state: RequestState | None
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
        receivers = inline_receivers(signals.request_finished, sender)
        if receivers is None or thread_bound(state) or not loop_thread_clean():
            return None
        return receivers


_DEFAULT_POOL_SIZE: int = DEFAULTS["ASGI_THREAD_POOL_SIZE"]


def _pool_size(thread_pool_size: Any = None) -> Any:
    """The configured pool size: the argument, else the setting; `None` is the default."""
    size = daf_settings.ASGI_THREAD_POOL_SIZE if thread_pool_size is None else thread_pool_size
    return _DEFAULT_POOL_SIZE if size is None else size


def _pool_problem(size: Any) -> tuple[str, str] | None:
    """(check id, message) if the thread pool setting cannot work, else `None`."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return "daf_drf.E051", (
            f'DAF_DRF["ASGI_THREAD_POOL_SIZE"] is {size!r}; expected None (the default, '
            f"{_DEFAULT_POOL_SIZE}), a positive int, or 0 (a fresh thread per request)."
        )
    registry = getattr(SyncToAsync, "context_to_thread_executor", None)
    if not isinstance(registry, weakref.WeakKeyDictionary):
        # Every setting uses it, the opt-out too: it is how the entry bounds the threads
        # (and so the database connections) of a process.
        return "daf_drf.E052", (
            f"asgiref {asgiref.__version__} no longer keeps a per-context executor registry "
            "(SyncToAsync.context_to_thread_executor), which daf_drf.asgi uses to bound its "
            "request threads."
        )
    return None


_E053_HINT = (
    'Remove DAF_DRF["ASGI_THREAD_POOL_SIZE"] = 0 or set a size (persistent connections are '
    "then one per pooled thread and alias, reused by later requests), or CONN_MAX_AGE = 0 "
    '(on PostgreSQL with OPTIONS={"pool": {...}} to reuse connections). See '
    'docs/deployment.md, "PostgreSQL".'
)


def _connection_problem(size: Any) -> tuple[str, str] | None:
    """
    (check id, message) when the entry is opted out of its thread pool (`0`) and a database
    keeps persistent connections: every request that runs sync code gets a fresh thread,
    whose connection no later request reuses and nothing closes until the thread is
    collected. Measured without any bound on threads: 96 of 100 connection slots in 1,100
    requests, 301 errors; so the entry refuses to start instead.
    """
    if size != 0:
        return None
    from django.db import connections

    for alias, database in connections.settings.items():
        max_age = database.get("CONN_MAX_AGE", 0)
        if max_age is None or (isinstance(max_age, int | float) and max_age > 0):
            return "daf_drf.E053", (
                "daf_drf.asgi is opted out of its thread pool (ASGI_THREAD_POOL_SIZE = 0) and "
                f"DATABASES[{alias!r}] sets CONN_MAX_AGE = {max_age!r}: each request that runs "
                "sync code would leave a persistent connection on a thread that is never "
                f"reused, until the database refuses new connections. {_E053_HINT}"
            )
    return None


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
    variant, issues = _asgi_compat.problems()
    if issues or variant is None:
        logger.error(
            "daf_drf.asgi: %s. Serving with Django's stock ASGIHandler until daf_drf "
            "supports this Django release (daf_drf.W050).",
            "; ".join(issues) or f"Django {django.get_version()} is not supported",
        )
        return django_asgi.ASGIHandler()
    return ASGIHandler(thread_pool_size=thread_pool_size)


@register()
def check_asgi(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """
    daf_drf.W050, E051, E052, E053: the entry can run on this Django and asgiref, as
    configured, without leaking database connections.
    """
    messages: list[CheckMessage] = []
    _variant, issues = _asgi_compat.problems()
    for issue in issues:
        messages.append(
            Warning(
                issue,
                hint="daf_drf.asgi.get_asgi_application() serves with Django's stock "
                "ASGIHandler on this Django version: correct, without the inline fast path.",
                id="daf_drf.W050",
            )
        )
    size = _pool_size()
    problem = _pool_problem(size)
    if problem:
        messages.append(Error(problem[1], id=problem[0]))
    problem = _connection_problem(size)
    if problem:
        messages.append(Error(problem[1], id=problem[0]))
    from daf_drf import _asgi_middleware

    if not issues and not _asgi_middleware.verified():
        messages.append(
            Warning(
                f"Django {django.get_version()} changed middleware code daf_drf.asgi reads "
                "before it runs Django's own middleware hooks on the event loop.",
                hint="daf_drf.asgi runs every middleware hook in Django's thread hop on this "
                "Django version: correct, slower.",
                id="daf_drf.W053",
            )
        )
    return messages
