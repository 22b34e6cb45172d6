"""
The inline rules: when `daf_drf.asgi.ASGIHandler` may run a step of Django's request cycle
(a request signal, `response.close()`) on the event loop instead of in a thread hop.

The rules, each read from Django's and asgiref's source:

- Django's own receivers (`reset_queries`, `close_old_connections`, `close_caches`,
  `reset_urlconf`) act only on database connections of the calling thread (thread-critical)
  and on context-local caches and urlconf. On the stock path they run on a thread created for
  the request; while the request has run no sync code, that thread holds no connection.
- So a step may run on the loop when only those receivers are connected, the request has not
  bound a thread, and the loop thread holds no connection either (then the connection
  receivers have nothing to touch, exactly as on the fresh thread, and are skipped).
- A request called from sync code (`async_to_sync`, as in async `TestCase` methods) has its
  thread-sensitive work on the caller's thread, which may hold connections: always stock.
- A request that bound a pooled thread ends with `close_old_connections` on that thread. When
  nothing of the request still runs there and every connection the thread holds is healthy
  (autocommit as configured, no error since the last commit, not past `CONN_MAX_AGE`), that
  receiver's only effect is `health_check_done = False` on each open connection: the loop
  does exactly that, on the idle thread's wrappers, instead of a hop. Anything else (an
  obsolete, failed or non-autocommit connection, a backend with its own
  `close_if_unusable_or_obsolete`, work still queued on the thread) takes the hop.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Mapping, Sequence

from asgiref.sync import AsyncToSync, SyncToAsync, ThreadSensitiveContext
from django.core import signals
from django.db import close_old_connections, connections, reset_queries
from django.db.backends.base.base import BaseDatabaseWrapper
from django.dispatch import Signal

from daf_drf.asgi._guard import RECEIVERS, Receiver
from daf_drf.asgi._pool import Lease

__all__ = [
    "DJANGO_RECEIVERS",
    "RequestState",
    "current_state",
    "inline_receivers",
    "loop_thread_clean",
    "owns_context",
    "send_inline",
    "settled_connections",
    "thread_bound",
]

# Django's own receivers of `request_started` / `request_finished` (the guard's one list,
# fingerprinted there). On a thread that holds no connection, running them on the loop is
# exactly what the stock path does on a fresh thread.
DJANGO_RECEIVERS: frozenset[Receiver] = frozenset(RECEIVERS.values())


class RequestState:
    """What the handler knows about one request, shared by its tasks through a context var."""

    __slots__ = (
        "finish",
        "lease",
        "pending_start",
        "scope",
        "sender",
        "start",
        "sync_caller",
        "thread_connections",
    )

    def __init__(self, sender: type) -> None:
        self.sender = sender
        self.lease: Lease | None = None
        self.pending_start: list[Receiver] = []
        self.scope: Mapping[str, object] | None = None
        self.start = "stock"
        self.finish = "stock"
        # Called from sync code (`async_to_sync`): that caller's thread serves the request.
        self.sync_caller = getattr(AsyncToSync.executors, "current", None) is not None
        # Pool mode: the connections the request's thread holds, as of its last call.
        self.thread_connections: Sequence[BaseDatabaseWrapper] | None = None

    def record_connections(self) -> None:
        # Pool mode, on the request's thread after each of its calls: the list Django's
        # `close_old_connections` would walk there now.
        self.thread_connections = None
        self.thread_connections = connections.all(initialized_only=True)

    def run_pending_start(self) -> None:
        # Pool mode: the start-of-request receivers that ran on the loop (where they found
        # nothing) run again on the pooled thread when the request binds it, because that
        # thread may hold a persistent connection from an earlier request.
        for receiver in self.pending_start:
            receiver(signal=signals.request_started, sender=self.sender, scope=self.scope)


current_state: contextvars.ContextVar[RequestState] = contextvars.ContextVar("daf_drf_asgi_request")


# (signal id, sender) -> (receiver keys it was computed for, verdict). A verdict that allows
# the inline path names only Django's own functions, which live as long as the process, so
# their ids cannot be reused by another receiver while the entry is valid.
_verdicts: dict[tuple[int, type], tuple[tuple[object, ...], list[Receiver] | None]] = {}


def inline_receivers(signal: Signal, sender: type) -> list[Receiver] | None:
    """The signal's receivers if all are Django's own sync ones, else `None`."""
    receivers = signal.receivers
    if not receivers:
        return []
    keys = tuple(entry[0] for entry in receivers)
    cached = _verdicts.get((id(signal), sender))
    # `Signal._dead_receivers` is private (untyped): set when a weak receiver was collected.
    dead = signal._dead_receivers  # type: ignore[attr-defined]
    if cached is not None and cached[0] == keys and not dead:
        return cached[1]
    sync_receivers, async_receivers = signal._live_receivers(sender)
    verdict: list[Receiver] | None = list(sync_receivers)
    if async_receivers or any(r not in DJANGO_RECEIVERS for r in sync_receivers):
        verdict = None
    _verdicts[(id(signal), sender)] = (keys, verdict)
    return verdict


def thread_bound(state: RequestState | None) -> bool:
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


_CLOSE_IF_OBSOLETE = BaseDatabaseWrapper.close_if_unusable_or_obsolete


def settled_connections(state: RequestState | None) -> list[BaseDatabaseWrapper] | None:
    """
    The open connections of the request's pooled thread if `close_old_connections` would
    close none of them now (its only effect: their `health_check_done = False`), else `None`.
    """
    if state is None or state.sync_caller:
        return None
    lease = state.lease
    held = state.thread_connections
    if lease is None or held is None or not lease.idle:
        return None
    now = time.monotonic()
    open_ones = []
    for conn in held:
        if (
            type(conn).close_if_unusable_or_obsolete is not _CLOSE_IF_OBSOLETE
            or "close_if_unusable_or_obsolete" in vars(conn)
        ):
            return None  # a backend (or code) with a check of its own: it runs, on its thread
        if conn.connection is None:
            continue
        # `close_if_unusable_or_obsolete`'s three conditions, read without touching the
        # connection (`get_autocommit()` on an open connection only reads `autocommit`).
        if conn.autocommit != conn.settings_dict["AUTOCOMMIT"] or conn.errors_occurred:
            return None
        if conn.close_at is not None and now >= conn.close_at:
            return None
        open_ones.append(conn)
    return open_ones


def owns_context(context: ThreadSensitiveContext, state: RequestState) -> bool:
    """Whether `context` decides this request's thread (the pool may then lend one)."""
    if state.sync_caller:
        # A sync caller's thread serves the request (a test's transaction lives there).
        return False
    # Nested in an outer ThreadSensitiveContext, the outer one decides.
    return SyncToAsync.thread_sensitive_context.get(None) is context


def loop_thread_clean() -> bool:
    """Whether the loop thread holds no database connection (nor logged queries)."""
    # A connection opened on the loop thread (at import time, say) must stay with the stock
    # path: the receivers would act on it here but not on a fresh thread. A wrapper object
    # with no connection and no logged queries is what a fresh thread has too.
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None or conn.queries_log:
            return False
    return True


# On the stock path these run on a thread that holds no connection, where they touch nothing;
# the inline path runs only when the loop thread holds none either, so they are skipped.
_CONNECTION_RECEIVERS: frozenset[Receiver] = frozenset({reset_queries, close_old_connections})


def send_inline(signal: Signal, receivers: list[Receiver], sender: type, **named: object) -> None:
    """Call Django's own receivers as `Signal.send` would, minus the no-op connection ones."""
    for receiver in receivers:
        if receiver not in _CONNECTION_RECEIVERS:
            receiver(signal=signal, sender=sender, **named)
