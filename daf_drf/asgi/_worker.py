"""
What the entry's pooled threads run (`daf_drf.asgi._pool` decides which thread serves whom).

A `Worker` is one long-lived thread with a queue; it runs `Item`s in order: a request's `Call`
(with the lease's `on_bind` before its first one, and the lease's bookkeeping after each) or a
`Control` step of the pool itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from queue import SimpleQueue
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from daf_drf.asgi._pool import Lease, ThreadPool

__all__ = ["Call", "Control", "Item", "Worker"]

_T = TypeVar("_T")


class Item(Protocol):
    """What a worker runs: a request's call, or a control step of the pool."""

    def run(self) -> None: ...

    def cancelled(self) -> bool: ...


class Call(Generic[_T]):
    """One submitted call and its future; `on_bind` (a lease's first call) runs before it."""

    __slots__ = ("call", "future", "lease", "on_bind")

    def __init__(
        self,
        future: Future[_T],
        call: Callable[[], _T],
        on_bind: Callable[[], None] | None,
        lease: Lease,
    ) -> None:
        self.future = future
        self.call = call
        self.on_bind = on_bind
        self.lease = lease

    def run(self) -> None:
        lease = self.lease
        if not self.future.set_running_or_notify_cancel():
            lease._finished += 1
            return
        try:
            # The start-of-request work (Django's connection check) runs on the thread
            # first; if it raises, the request's first sync call raises it.
            if self.on_bind is not None:
                self.on_bind()
            result = self.call()
        except BaseException as exc:
            lease._call_done()
            self.future.set_exception(exc)
        else:
            lease._call_done()
            self.future.set_result(result)

    def cancelled(self) -> bool:
        return self.future.cancelled()


class Control:
    """A step of the pool itself (a lease's release), run in line with the calls: no user code."""

    __slots__ = ("step",)

    def __init__(self, step: Callable[[], None]) -> None:
        self.step = step

    def run(self) -> None:
        self.step()

    def cancelled(self) -> bool:
        return False


class Worker:
    """One long-lived thread running the items queued on it, in order, until sent `None`."""

    def __init__(
        self, pool: ThreadPool, index: int, predecessor: threading.Thread | None = None
    ) -> None:
        self.pool = pool
        # `reuse=False`: the thread this one replaces, joined before anything runs here.
        self.predecessor = predecessor
        self.queue: SimpleQueue[Item | None] = SimpleQueue()
        self.thread = threading.Thread(target=self._run, name=f"daf_drf-asgi-{index}", daemon=True)
        # Sent its stop item: it no longer counts against the pool's size.
        self.stopping = False

    def _run(self) -> None:
        try:
            if self.predecessor is not None:
                self.predecessor.join()
                self.predecessor = None
            while True:
                item = self.queue.get()
                if item is None:
                    return
                item.run()
                # Drop references to the request's objects before waiting for the next item.
                del item
        finally:
            self.pool._exited(self)
