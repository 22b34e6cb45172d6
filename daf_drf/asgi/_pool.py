"""
The entry's thread pool: a bounded set of long-lived threads, lent to one request at a time.

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
- At most `size` workers serve requests. A request that needs a thread while all are bound
  waits (its calls queue) until one is returned.
- A worker goes back to the pool only after every call queued on it has finished, so a sync
  call that outlives a cancelled request still holds its thread until it returns.
- With `reuse=False` a worker serves one lease and exits; the next lease gets a fresh thread
  (Django's one thread per request), which runs nothing before its predecessor has exited:
  at most `size` threads run requests' work at once.
- `close()` stops the workers: the pool lends no thread to a new lease, the leases already
  given out keep their thread (or their place in line) until they are released, and each
  worker exits as soon as it has no lease left to serve.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from contextlib import suppress
from functools import partial
from typing import ParamSpec, TypeVar

from daf_drf.asgi._worker import Call, Control, Item, Worker

__all__ = ["Lease", "ThreadPool"]

_T = TypeVar("_T")
_P = ParamSpec("_P")


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
        ...
        pool.close()                        # at shutdown: the workers exit
    """

    def __init__(self, size: int, *, reuse: bool = True) -> None:
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"ThreadPool size must be a positive int, not {size!r}.")
        self.size = size
        # False: each lease gets a fresh thread, which exits when the lease ends.
        self.reuse = reuse
        self._lock = threading.Lock()
        self._all_exited = threading.Condition(self._lock)
        self._idle: list[Worker] = []
        self._waiting: deque[Lease] = deque()
        # Every worker thread not yet exited, and how many of them still serve (not stopping).
        self._workers: set[Worker] = set()
        self._serving = 0
        self._spawned = 0
        self._closed = False

    @property
    def threads(self) -> int:
        """
        How many worker threads exist: at most `size` serving ones, plus, after `close()`,
        the ones told to stop that have not exited yet; 0 once closed and drained.
        """
        return len(self._workers)

    @property
    def closed(self) -> bool:
        """Whether `close()` was called: the pool lends no thread to a new lease."""
        return self._closed

    def lease(
        self,
        on_bind: Callable[[], None] | None = None,
        after_call: Callable[[], None] | None = None,
    ) -> Lease:
        """
        A new executor for one request. On the worker thread, `on_bind` runs before its first
        call and `after_call` after each call, before the call's future is resolved (it must
        not raise; an error it raises is dropped so the call's own outcome stands).
        """
        if self._closed:
            raise RuntimeError(
                "This ThreadPool is closed: it lends no thread to a new request. "
                "Close the pool only once the server has stopped sending requests."
            )
        return Lease(self, on_bind, after_call)

    def close(self, timeout: float | None = None) -> bool:
        """
        Stop the worker threads; return whether all of them have exited.

        New leases are refused from now on (`RuntimeError`). Leases already given out keep
        working until they are released; each worker exits once it has none left to serve.
        Waits for that at most `timeout` seconds (`None`: until it happens). Safe to call
        again, to wait once more. Called from a worker thread, it does not wait for that
        thread (and returns `False`: the thread is still running the call).
        """
        current = threading.current_thread()
        with self._lock:
            if not self._closed:
                self._closed = True
                for worker in self._idle:
                    self._stop(worker)
                self._idle.clear()
            self._all_exited.wait_for(
                lambda: all(w.thread is current for w in self._workers), timeout
            )
            return not self._workers

    def _acquire(self, lease: Lease) -> Worker | None:
        with self._lock:
            if self._idle:
                return self._idle.pop()
            if self._serving >= self.size:
                self._waiting.append(lease)
                return None
            # A lease given out before `close()` still gets its thread: the pool drains.
            self._spawned += 1
            worker = Worker(self, self._spawned)
            self._workers.add(worker)
            self._serving += 1
        try:
            worker.thread.start()
        except BaseException:
            self._exited(worker)
            raise
        return worker

    def _return(self, worker: Worker) -> None:
        # After everything the previous lease queued has run: on the worker thread (a queued
        # step), or in `Lease.release()` when that lease was already idle.
        with self._lock:
            if not self.reuse:
                # The thread exits once this step returns; a waiting lease gets a fresh one,
                # which waits for this one to exit before it runs anything.
                self._stop(worker)
                if not self._waiting:
                    return
                lease = self._waiting.popleft()
                self._spawned += 1
                successor = Worker(self, self._spawned, predecessor=worker.thread)
                self._workers.add(successor)
                self._serving += 1
            elif not self._waiting:
                if self._closed:
                    self._stop(worker)
                else:
                    self._idle.append(worker)
                return
            else:
                lease = self._waiting.popleft()
                successor = worker
        if successor is not worker:
            try:
                successor.thread.start()
            except BaseException:
                self._exited(successor)
                raise
        lease._attach(successor)

    def _stop(self, worker: Worker) -> None:
        # Under the lock: the worker exits after what is queued on it.
        worker.stopping = True
        self._serving -= 1
        worker.queue.put(None)

    def _exited(self, worker: Worker) -> None:
        with self._lock:
            self._workers.discard(worker)
            if not worker.stopping:  # its thread could not start
                worker.stopping = True
                self._serving -= 1
            self._all_exited.notify_all()

    def _forget(self, lease: Lease) -> None:
        with self._lock, suppress(ValueError):
            self._waiting.remove(lease)


class Lease(Executor):
    """
    One request's thread-sensitive executor: binds a pool worker on first use.

    `bound` says whether the lease has a thread yet, so the handler knows whether the
    request's thread may hold anything (a database connection). A request still queued for a
    thread has run no sync code anywhere.
    """

    def __init__(
        self,
        pool: ThreadPool,
        on_bind: Callable[[], None] | None,
        after_call: Callable[[], None] | None = None,
    ) -> None:
        self._pool = pool
        self._on_bind = on_bind
        self._after_call = after_call
        # Calls submitted (written under `_lock`) and finished (written by the worker thread
        # only, before the call's future is resolved): equal when nothing is queued or running.
        self._submitted = 0
        self._finished = 0
        self._lock = threading.Lock()
        self._worker: Worker | None = None
        self._backlog: list[Item] = []
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

    @property
    def idle(self) -> bool:
        """
        Whether the lease has a thread and every call submitted to it has finished: nothing
        of the request's runs there now. (The worker may still be resolving the last call's
        future, which runs no code of the request.)
        """
        return self._worker is not None and self._finished == self._submitted

    def _call_done(self) -> None:
        # On the worker thread, after a call and before its future is resolved.
        after = self._after_call
        if after is not None:
            # Documented in `ThreadPool.lease`: the call's own outcome stands.
            with suppress(Exception):
                after()
        self._finished += 1

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        future: Future[_T] = Future()
        with self._lock:
            if self._released:
                raise RuntimeError("This request's thread has been released.")
            first = not self._requested
            self._requested = True
            self._submitted += 1
            on_bind = self._on_bind if first else None
            item = Call(future, partial(fn, *args, **kwargs), on_bind, self)
            if self._worker is not None:
                self._worker.queue.put(item)
                return future
            self._backlog.append(item)
        if first:
            worker = self._pool._acquire(self)
            if worker is not None:
                self._attach(worker)
        return future

    def _attach(self, worker: Worker) -> None:
        with self._lock:
            self._worker = worker
            for item in self._backlog:
                worker.queue.put(item)
            self._backlog.clear()
            if self._released:
                worker.queue.put(Control(partial(self._pool._return, worker)))

    def release(self) -> None:
        """
        End of the request: the worker returns to the pool once its queue drains (at once
        when nothing is queued or running on it, else by a step queued after the calls).
        """
        with self._lock:
            if self._released:
                return
            self._released = True
            worker = self._worker
            if worker is not None:
                if not (self._pool.reuse and self.idle):
                    worker.queue.put(Control(partial(self._pool._return, worker)))
                    return
            elif not self._requested:
                return
            else:
                # Calls cancelled while queued (the request was cancelled) will never run.
                self._backlog = [item for item in self._backlog if not item.cancelled()]
                if self._backlog:
                    # Calls still queue for a worker (a cancelled request's, say): the lease
                    # stays in line, runs them, and returns the worker right after (`_attach`).
                    return
        if worker is not None:
            # Everything the request queued has run: the worker goes back to the pool now,
            # without waking its thread for a step of its own (it is, or is about to be,
            # waiting for its next item; whatever the pool queues next runs after that).
            self._pool._return(worker)
            return
        self._pool._forget(self)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        # A lease ends with `release()`; `shutdown()` (the Executor API) does the same.
        self.release()
