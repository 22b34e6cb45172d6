"""
`daf_drf.asgi`'s thread pool at shutdown: `ThreadPool.close()` stops its worker threads.

The pool's workers are long-lived; a process that embeds the entry (a test run, a server's
lifespan shutdown) closes the pool to get its threads back. Closing lets the work already
leased finish, refuses new leases, and is safe to call twice.
"""

from __future__ import annotations

import gc
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpRequest, JsonResponse
from django.urls import path

from daf_drf.asgi import ASGIHandler
from daf_drf.asgi._pool import ThreadPool
from tests.asgi_client import request, run_on_fresh_loop


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


# --- through the entry ----------------------------------------------------------------------


SEEN: list[threading.Thread] = []


def thread_name(request: HttpRequest) -> JsonResponse:
    # A sync view: Django runs it in the request's thread-sensitive thread, the pooled one.
    SEEN.append(threading.current_thread())
    return JsonResponse({"thread": threading.current_thread().name})


urlpatterns = [path("thread", thread_name)]


@pytest.fixture
def pool_urls(settings: Any) -> Iterator[None]:
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = []
    SEEN.clear()
    yield
    SEEN.clear()


def _get(handler: ASGIHandler) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        return await request(handler, "/thread")

    result: dict[str, Any] = run_on_fresh_loop(go)
    return result


@pytest.mark.usefixtures("pool_urls")
def test_the_entrys_pool_threads_exit_after_close_and_new_requests_are_refused() -> None:
    handler = ASGIHandler(thread_pool_size=2)
    pool = handler.pool
    assert pool is not None
    served = _get(handler)
    assert served["status"] == 200
    assert json.loads(served["body"])["thread"].startswith("daf_drf-asgi-")
    [pooled] = SEEN
    assert pooled.is_alive()

    assert pool.close(timeout=10) is True
    pooled.join(timeout=10)
    assert not pooled.is_alive()
    assert pool.threads == 0
    with pytest.raises(RuntimeError, match="ThreadPool is closed"):
        _get(handler)


@pytest.mark.usefixtures("pool_urls")
def test_a_dropped_handler_stops_its_pool_threads() -> None:
    handler = ASGIHandler(thread_pool_size=2)
    pool = handler.pool
    assert pool is not None
    assert _get(handler)["status"] == 200
    [pooled] = SEEN
    assert pooled.is_alive()
    del handler
    gc.collect()
    pooled.join(timeout=10)
    assert not pooled.is_alive()
    assert pool.closed
