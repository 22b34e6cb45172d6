"""
`daf_drf.asgi`'s thread pool at shutdown: `ThreadPool.close()` stops its worker threads.

The pool's workers are long-lived; a process that embeds the entry (a test run, a server's
lifespan shutdown) closes the pool to get its threads back. Closing lets the work already
leased finish, refuses new leases, and is safe to call twice.
"""

from __future__ import annotations

import threading
import time

import pytest

from daf_drf.asgi._pool import ThreadPool


def _worker_thread(pool: ThreadPool) -> threading.Thread:
    lease = pool.lease()
    lease.submit(lambda: None).result(timeout=10)
    thread = lease.thread
    lease.release()
    assert thread is not None
    return thread


def test_worker_threads_exit_after_close() -> None:
    pool = ThreadPool(2)
    first, second = pool.lease(), pool.lease()
    gate = threading.Event()
    held = first.submit(gate.wait, 10)
    second.submit(lambda: None).result(timeout=10)
    threads = [first.thread, second.thread]
    assert all(t is not None and t.is_alive() for t in threads)
    gate.set()
    held.result(timeout=10)
    first.release()
    second.release()

    assert pool.close(timeout=10) is True
    for thread in threads:
        assert thread is not None
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert pool.threads == 0
    assert not [t for t in threading.enumerate() if t in threads]


def test_close_is_idempotent() -> None:
    pool = ThreadPool(1)
    thread = _worker_thread(pool)
    assert pool.close(timeout=10) is True
    assert pool.close(timeout=10) is True
    assert pool.close() is True
    assert not thread.is_alive()


def test_a_closed_pool_refuses_new_leases_with_a_clear_error() -> None:
    pool = ThreadPool(1)
    pool.close(timeout=10)
    with pytest.raises(RuntimeError, match="ThreadPool is closed"):
        pool.lease()


def test_close_lets_in_flight_work_finish_and_bounds_its_wait() -> None:
    pool = ThreadPool(1)
    lease = pool.lease()
    gate = threading.Event()
    running = lease.submit(gate.wait, 10)
    queued = lease.submit(lambda: "after the gate")
    thread = lease.thread
    assert thread is not None

    # The request is still running: the wait is bounded and says the pool is not done.
    assert pool.close(timeout=0.05) is False
    assert thread.is_alive()
    assert not running.done()

    gate.set()
    assert running.result(timeout=10) is True
    assert queued.result(timeout=10) == "after the gate"
    lease.release()
    assert pool.close(timeout=10) is True
    assert not thread.is_alive()


def test_a_lease_waiting_for_a_thread_at_close_is_still_served() -> None:
    pool = ThreadPool(1)
    first, second = pool.lease(), pool.lease()
    gate = threading.Event()
    held = first.submit(gate.wait, 10)
    waiting = second.submit(lambda: "served")
    assert not second.bound

    assert pool.close(timeout=0.05) is False
    gate.set()
    held.result(timeout=10)
    first.release()
    assert waiting.result(timeout=10) == "served"
    second.release()
    assert pool.close(timeout=10) is True
    assert pool.threads == 0


def test_close_called_from_a_worker_thread_does_not_wait_for_itself() -> None:
    pool = ThreadPool(1)
    lease = pool.lease()
    result = lease.submit(pool.close, 10).result(timeout=10)
    # Its own thread is still running the call; every other worker has stopped.
    assert result is False
    thread = lease.thread
    lease.release()
    assert thread is not None
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert pool.close(timeout=10) is True


def test_a_lease_given_out_before_close_still_gets_a_thread_after_it() -> None:
    pool = ThreadPool(1)
    first = _worker_thread(pool)
    # Wait until the worker is back in the pool, idle: close() stops it.
    deadline = time.monotonic() + 10
    while not pool._idle and time.monotonic() < deadline:
        time.sleep(0.001)
    assert pool._idle
    lease = pool.lease()
    pool.close(timeout=0)
    # The request began before the pool closed: its first sync call is still served.
    assert lease.submit(lambda: "served").result(timeout=10) == "served"
    lease.release()
    assert pool.close(timeout=10) is True
    assert not first.is_alive()
