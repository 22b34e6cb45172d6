"""
A bounded pool of long-lived threads, lent to one request at a time.

Django's stock handler gives every request a new `ThreadPoolExecutor(max_workers=1)` for its
thread-sensitive work (sync middleware, `sync_to_async` ORM calls, sync receivers), and since
asgiref 3.12 a second thread to join it. `ThreadPool` keeps `size` worker threads instead;
each request gets a `Lease`, an executor that `daf_drf.asgi` registers as its
`ThreadSensitiveContext`'s executor, so asgiref sends that request's thread-sensitive calls
to it.

Guarantees:

- A lease binds a worker on its first call and keeps it until the request ends: all of one
  request's thread-sensitive work runs on one thread, in submission order, and no other
  request's work runs on that thread while it is bound.
- At most `size` workers ever exist. A request that needs a thread while all are bound waits
  (its calls queue) until one is returned.
- A worker goes back to the pool only after every call queued on it has finished, so a sync
  call that outlives a cancelled request still holds its thread until it returns.
- With `reuse=False` a worker serves one lease and exits; the next lease gets a fresh thread
  (Django's one thread per request), which runs nothing before its predecessor has exited:
  at most `size` threads run requests' work at once.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from contextlib import suppress
from queue import SimpleQueue
from typing import Any

__all__ = ["Lease", "ThreadPool"]

_Item = tuple["Future[Any] | None", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class _Worker:
    """One long-lived thread running the items queued on it, in order."""

    def __init__(
        self, pool: ThreadPool, index: int, predecessor: threading.Thread | None = None
    ) -> None:
        self.pool = pool
        self.predecessor = predecessor
        self.queue: SimpleQueue[_Item | None] = SimpleQueue()
        self.thread = threading.Thread(target=self._run, name=f"daf_drf-asgi-{index}", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        if self.predecessor is not None:
            # A fresh thread replacing one that served a lease (`reuse=False`).
            self.predecessor.join()
            self.predecessor = None
        while True:
            item = self.queue.get()
            if item is None:
                return
            future, fn, args, kwargs = item
            if future is None:
                # A control item (the lease's release): runs no user code.
                fn(*args, **kwargs)
                continue
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            # Drop references to the request's objects before waiting for the next item.
            del future, fn, args, kwargs, item


class ThreadPool:
    """
    At most `size` long-lived threads for requests' thread-sensitive work.

    Usage (what `daf_drf.asgi.ASGIHandler` does per request):

        pool = ThreadPool(16)
        lease = pool.lease()
        async with ThreadSensitiveContext() as context:
            SyncToAsync.context_to_thread_executor[context] = lease
            await sync_to_async(work)()     # runs on the lease's thread
            del SyncToAsync.context_to_thread_executor[context]
        lease.release()
    """

    def __init__(self, size: int, *, reuse: bool = True) -> None:
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"ThreadPool size must be a positive int, not {size!r}.")
        self.size = size
        self.reuse = reuse
        self._lock = threading.Lock()
        self._idle: list[_Worker] = []
        self._waiting: deque[Lease] = deque()
        self._started = 0
        self._named = 0

    @property
    def threads(self) -> int:
        """How many worker threads exist or are lent (at most `size`)."""
        return self._started

    def lease(self, on_bind: Callable[[], None] | None = None) -> Lease:
        """A new executor for one request; `on_bind` runs on the worker before its first call."""
        return Lease(self, on_bind)

    def _acquire(self, lease: Lease) -> _Worker | None:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._started < self.size:
                self._started += 1
                self._named += 1
                index = self._named
            else:
                self._waiting.append(lease)
                return None
        return _Worker(self, index)

    def _return(self, worker: _Worker) -> None:
        # Runs on the worker thread, after everything the previous lease queued.
        with self._lock:
            if not self.reuse:
                worker.queue.put(None)  # the thread exits once this item returns
            if not self._waiting:
                if self.reuse:
                    self._idle.append(worker)
                else:
                    self._started -= 1
                return
            lease = self._waiting.popleft()
            if not self.reuse:
                self._named += 1
                index = self._named
        if not self.reuse:
            worker = _Worker(self, index, predecessor=worker.thread)
        lease._attach(worker)

    def _forget(self, lease: Lease) -> None:
        with self._lock, suppress(ValueError):
            self._waiting.remove(lease)


def _bind_then_call(
    on_bind: Callable[[], None], fn: Callable[..., Any], args: Any, kwargs: Any
) -> Any:
    on_bind()
    return fn(*args, **kwargs)


class Lease(Executor):
    """
    One request's thread-sensitive executor: binds a pool worker on first use.

    `bound` says whether the lease has a thread yet, so the handler knows whether the
    request's thread may hold anything (a database connection). A request still queued for a
    thread has run no sync code anywhere.
    """

    def __init__(self, pool: ThreadPool, on_bind: Callable[[], None] | None) -> None:
        self._pool = pool
        self._on_bind = on_bind
        self._lock = threading.Lock()
        self._worker: _Worker | None = None
        self._backlog: list[_Item] = []
        self._requested = False
        self._released = False

    @property
    def bound(self) -> bool:
        """Whether a worker thread is bound: the request's sync calls may have run there."""
        return self._worker is not None

    @property
    def thread(self) -> threading.Thread | None:
        """The worker thread this lease is bound to, once it has one."""
        worker = self._worker
        return worker.thread if worker is not None else None

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._released:
                raise RuntimeError("This request's thread has been released.")
            first = not self._requested
            self._requested = True
            item: _Item = (future, fn, args, kwargs)
            if first and self._on_bind is not None:
                # The start-of-request work (Django's connection check) runs on the thread
                # first; if it raises, the request's first sync call raises it.
                item = (future, _bind_then_call, (self._on_bind, fn, args, kwargs), {})
            if self._worker is not None:
                self._worker.queue.put(item)
                return future
            self._backlog.append(item)
        if first:
            worker = self._pool._acquire(self)
            if worker is not None:
                self._attach(worker)
        return future

    def _attach(self, worker: _Worker) -> None:
        with self._lock:
            self._worker = worker
            for item in self._backlog:
                worker.queue.put(item)
            self._backlog.clear()
            if self._released:
                worker.queue.put((None, self._pool._return, (worker,), {}))

    def release(self) -> None:
        """End of the request: the worker returns to the pool once its queue drains."""
        with self._lock:
            if self._released:
                return
            self._released = True
            worker = self._worker
            if worker is not None:
                worker.queue.put((None, self._pool._return, (worker,), {}))
                return
            if not self._requested:
                return
            # Calls cancelled while queued (the request was cancelled) will never run.
            self._backlog = [i for i in self._backlog if i[0] is None or not i[0].cancelled()]
            if self._backlog:
                # Calls still queue for a worker (a cancelled request's, say): the lease stays
                # in line, runs them, and returns the worker right after (see `_attach`).
                return
        self._pool._forget(self)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # A lease ends with `release()`; `shutdown()` (the Executor API) does the same.
        self.release()
