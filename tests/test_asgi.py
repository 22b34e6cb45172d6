"""
`daf_drf.asgi.ASGIHandler`: the same answers as Django's stock handler, without the
per-request thread when a request does not need one.

Requests go through the real handlers with an ASGI scope/receive/send, on an event loop in a
fresh thread (like a server's loop thread, which holds no database connection). Database
guarantees are checked in a subprocess against a file SQLite database: see
`tests/_asgi_db_probe.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core import signals
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.asgi import ASGIHandler as StockASGIHandler
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path, reverse
from django.utils.decorators import async_only_middleware
from django.utils.deprecation import MiddlewareMixin

from daf_drf.asgi import ASGIHandler, check_asgi, get_asgi_application
from daf_drf.asgi import _guard as _asgi_compat
from daf_drf.asgi._pool import ThreadPool
from daf_drf.hooks import inline_safe
from tests.asgi_client import request, run_on_fresh_loop

# --- views, middleware and receivers used by the tests ---------------------------------------

EVENTS: dict[str, Any] = {}


async def plain(request: Any) -> HttpResponse:
    return JsonResponse({"ok": True})


async def uses_sync(request: Any) -> HttpResponse:
    names = [await sync_to_async(lambda: threading.current_thread().name)() for _ in range(2)]
    return JsonResponse({"threads": names})


def sync_view(request: Any) -> HttpResponse:
    return JsonResponse({"thread": threading.current_thread().name})


async def wait_forever(request: Any) -> HttpResponse:
    EVENTS["view_started"].set()
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        EVENTS["view_cancelled"] = True
        raise
    return HttpResponse("unreachable")


async def body_length(request: Any) -> HttpResponse:
    return HttpResponse(str(len(request.body)))


async def where_am_i(request: Any) -> HttpResponse:
    return JsonResponse(
        {
            "script_name": request.META["SCRIPT_NAME"],
            "path_info": request.path_info,
            "reversed": reverse("where"),
        }
    )


async def interleave(request: Any, n: int) -> HttpResponse:
    def record() -> None:
        EVENTS["log"].append((threading.current_thread().name, n))

    for _ in range(3):
        await sync_to_async(record)()
        await asyncio.sleep(0)
    return HttpResponse("ok")


async def spawns_background(request: Any) -> HttpResponse:
    # Like `daf_drf.tasks.fire_and_forget`: a task that outlives the request (it inherits the
    # request's context) and makes a thread-sensitive call after the response.
    async def later() -> None:
        await EVENTS["request_done"].wait()
        EVENTS["background_thread"] = await sync_to_async(lambda: threading.current_thread().name)()

    EVENTS["background"] = asyncio.get_running_loop().create_task(later())
    return HttpResponse("ok")


async def endless_stream(request: Any) -> StreamingHttpResponse:
    async def chunks() -> Any:
        try:
            while True:
                yield b"tick,"
                EVENTS["first_chunk"].set()
                await asyncio.sleep(0)
        finally:
            EVENTS["stream_closed"] = True

    return StreamingHttpResponse(chunks(), content_type="text/plain")


def blocking_work(request: Any) -> HttpResponse:
    # A sync view that holds its (pooled) thread until the test lets it go.
    EVENTS["holder_running"].set()
    EVENTS["release_holder"].wait(timeout=30)
    return HttpResponse("held")


async def with_closer(request: Any, kind: str) -> HttpResponse:
    def closer() -> None:
        EVENTS.setdefault("closed", []).append((kind, threading.current_thread().name))

    response = HttpResponse("ok")
    response._resource_closers.append(inline_safe(closer) if kind == "marked" else closer)
    return response


async def stream(request: Any) -> StreamingHttpResponse:
    async def chunks() -> Any:
        for part in (b"one,", b"two,", b"three"):
            yield part

    return StreamingHttpResponse(chunks(), content_type="text/plain")


urlpatterns = [
    path("plain", plain),
    path("uses-sync", uses_sync),
    path("sync-view", sync_view),
    path("wait", wait_forever),
    path("body", body_length),
    path("where", where_am_i, name="where"),
    path("stream", stream),
    path("interleave/<int:n>", interleave),
    path("background", spawns_background),
    path("endless", endless_stream),
    path("hold", blocking_work),
    path("closer/<str:kind>", with_closer),
]


class SyncHeaderMiddleware(MiddlewareMixin):
    def process_response(self, request: Any, response: HttpResponse) -> HttpResponse:
        response["X-Sync-Middleware"] = threading.current_thread().name
        return response


@async_only_middleware
def async_header_middleware(get_response: Callable[..., Any]) -> Callable[..., Any]:
    async def middleware(request: Any) -> HttpResponse:
        response: HttpResponse = await get_response(request)
        response["X-Async-Middleware"] = threading.current_thread().name
        return response

    return middleware


# --- harness ---------------------------------------------------------------------------------


def serve(app_factory: Callable[[], Any], url: str, **kwargs: Any) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        return await request(app_factory(), url, **kwargs)

    return run_on_fresh_loop(go)  # type: ignore[no-any-return]


@pytest.fixture(autouse=True)
def asgi_settings(settings: Any) -> Iterator[None]:
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = []
    EVENTS.clear()
    yield
    EVENTS.clear()


@pytest.fixture
def thread_starts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of threads started from the test's loop thread (a spy; threads still start)."""
    started: list[str] = []
    original = threading.Thread.start

    def start(self: threading.Thread) -> None:
        if threading.current_thread().name == "test-loop":
            started.append(self.name)
        original(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    return started


@pytest.fixture
def receiver_calls() -> Iterator[list[tuple[str, str]]]:
    """A third-party sync receiver on both signals, recording the thread it ran on."""
    calls: list[tuple[str, str]] = []

    def third_party(signal: Any, **kwargs: Any) -> None:
        name = "started" if signal is signals.request_started else "finished"
        calls.append((name, threading.current_thread().name))

    signals.request_started.connect(third_party, weak=False)
    signals.request_finished.connect(third_party, weak=False)
    try:
        yield calls
    finally:
        signals.request_started.disconnect(third_party)
        signals.request_finished.disconnect(third_party)


# --- the inline path -------------------------------------------------------------------------


def test_async_view_with_django_receivers_only_starts_no_thread(thread_starts: list[str]) -> None:
    handler = ASGIHandler()
    response = serve(lambda: handler, "/plain")
    assert response["status"] == 200
    assert thread_starts == []
    assert handler.path_counts == {"inline": 1}


def test_stock_handler_starts_threads_for_the_same_request(thread_starts: list[str]) -> None:
    # The control for the test above: the spy sees the stock handler's per-request threads
    # (the executor's worker, and since asgiref 3.12 the thread that joins it).
    serve(StockASGIHandler, "/plain")
    assert len(thread_starts) >= 1


@pytest.mark.parametrize(
    "url", ["/plain", "/sync-view", "/uses-sync", "/body", "/where", "/stream", "/missing"]
)
def test_response_is_identical_to_the_stock_handlers(url: str) -> None:
    stock = serve(StockASGIHandler, url, method="POST", body=b"12345")
    ours = serve(ASGIHandler, url, method="POST", body=b"12345")
    if url in ("/sync-view", "/uses-sync"):
        # Thread names differ by construction; everything else must not.
        stock["body"] = ours["body"] = b""
    assert ours["status"] == stock["status"]
    assert ours["headers"] == stock["headers"]
    assert ours["body"] == stock["body"]
    assert [m["type"] for m in ours["messages"]] == [m["type"] for m in stock["messages"]]


def test_debug_log_names_the_path_each_request_took(caplog: pytest.LogCaptureFixture) -> None:
    handler = ASGIHandler()

    def third_party(**kwargs: Any) -> None:
        pass

    with caplog.at_level("DEBUG", logger="daf_drf.asgi"):
        serve(lambda: handler, "/plain")
        serve(lambda: handler, "/uses-sync")
        signals.request_finished.connect(third_party)
        try:
            serve(lambda: handler, "/plain")
        finally:
            signals.request_finished.disconnect(third_party)
    messages = [r.getMessage() for r in caplog.records if r.name == "daf_drf.asgi"]
    assert messages == [
        "GET /plain took the inline path (request_started: inline, request_finished: inline)",
        # Its sync work left no connection for the end-of-request check to close.
        "GET /uses-sync took the inline path (request_started: inline, request_finished: inline)",
        "GET /plain took the stock path (request_started: inline, request_finished: stock)",
    ]


# --- falling back to Django's stock hops -----------------------------------------------------


def test_sync_work_in_the_request_runs_on_one_thread_and_ends_on_the_loop(
    thread_starts: list[str],
) -> None:
    handler = ASGIHandler()
    response = serve(lambda: handler, "/uses-sync")
    threads = json.loads(response["body"])["threads"]
    # One thread for the request's sync work, the same for every call.
    assert threads[0] == threads[1]
    assert threads[0] != "test-loop"
    # That thread holds no connection the end-of-request check could close: no hop for it
    # (test_end_of_request_connection_check_matches_the_stock_handler covers the rest).
    assert handler.path_counts == {"inline": 1}


def test_third_party_receiver_forces_the_stock_path_and_still_runs(
    receiver_calls: list[tuple[str, str]],
) -> None:
    handler = ASGIHandler()
    response = serve(lambda: handler, "/plain")
    assert response["status"] == 200
    assert [name for name, _ in receiver_calls] == ["started", "finished"]
    # As with the stock handler, the receiver runs on the request's thread, not the loop.
    assert {thread for _, thread in receiver_calls} != {"test-loop"}
    assert receiver_calls[0][1] == receiver_calls[1][1]
    assert handler.path_counts == {"stock": 1}


def test_third_party_receiver_runs_on_the_same_thread_as_with_the_stock_handler(
    receiver_calls: list[tuple[str, str]],
) -> None:
    serve(StockASGIHandler, "/plain")
    stock_threads = {thread for _, thread in receiver_calls}
    receiver_calls.clear()
    serve(ASGIHandler, "/plain")
    assert len(stock_threads) == len({thread for _, thread in receiver_calls}) == 1
    assert "test-loop" not in stock_threads


def test_async_receiver_forces_the_stock_path_and_runs() -> None:
    calls: list[str] = []

    async def async_receiver(**kwargs: Any) -> None:
        calls.append("started")

    signals.request_started.connect(async_receiver, weak=False)
    try:
        handler = ASGIHandler()
        serve(lambda: handler, "/plain")
    finally:
        signals.request_started.disconnect(async_receiver)
    assert calls == ["started"]
    assert handler.path_counts == {"stock": 1}


def test_sync_middleware_runs_in_the_requests_thread(settings: Any) -> None:
    settings.MIDDLEWARE = [f"{__name__}.SyncHeaderMiddleware"]
    handler = ASGIHandler()
    response = serve(lambda: handler, "/plain")
    headers = dict(response["headers"])
    assert headers[b"X-Sync-Middleware"] not in (b"test-loop", b"")
    # Its thread holds no connection to check at the end: the request ends on the loop.
    assert handler.path_counts == {"inline": 1}


def test_async_middleware_keeps_the_inline_path(settings: Any) -> None:
    settings.MIDDLEWARE = [f"{__name__}.async_header_middleware"]
    handler = ASGIHandler()
    response = serve(lambda: handler, "/plain")
    assert dict(response["headers"])[b"X-Async-Middleware"] == b"test-loop"
    assert handler.path_counts == {"inline": 1}


def test_a_closer_marked_inline_safe_keeps_the_inline_path() -> None:
    handler = ASGIHandler()
    serve(lambda: handler, "/closer/marked")
    serve(lambda: handler, "/closer/plain")
    assert EVENTS["closed"] == [("marked", "test-loop"), ("plain", EVENTS["closed"][1][1])]
    assert EVENTS["closed"][1][1] != "test-loop"
    assert handler.path_counts == {"inline": 1, "stock": 1}


def test_streaming_response_streams_the_same_messages_and_closes_the_stock_way() -> None:
    handler = ASGIHandler()
    ours = serve(lambda: handler, "/stream")
    stock = serve(StockASGIHandler, "/stream")
    assert ours["messages"] == stock["messages"]
    assert ours["body"] == b"one,two,three"
    assert handler.path_counts == {"stock": 1}


class RecordingCache(LocMemCache):
    def close(self, **kwargs: Any) -> None:
        EVENTS["cache_closes"] = EVENTS.get("cache_closes", 0) + 1


@pytest.mark.parametrize("handler_class", [StockASGIHandler, ASGIHandler])
def test_caches_are_closed_at_request_end_as_stock(handler_class: type, settings: Any) -> None:
    settings.CACHES = {"default": {"BACKEND": f"{__name__}.RecordingCache"}}

    async def go() -> None:
        caches["default"].get("warm")  # initialised in the server's context, as in production
        await request(handler_class(), "/plain")

    run_on_fresh_loop(go)
    assert EVENTS["cache_closes"] == 1


# --- disconnects, body limits, script prefix -------------------------------------------------


@pytest.mark.parametrize("handler_class", [StockASGIHandler, ASGIHandler])
def test_disconnect_during_a_stream_stops_and_closes_it_as_stock(handler_class: type) -> None:
    async def go() -> dict[str, Any]:
        EVENTS["first_chunk"] = asyncio.Event()
        return await request(handler_class(), "/endless", disconnect_when=EVENTS["first_chunk"])

    response = run_on_fresh_loop(go)
    assert response["status"] == 200
    assert response["body"].startswith(b"tick,")
    assert EVENTS["stream_closed"] is True


@pytest.mark.parametrize("handler_class", [StockASGIHandler, ASGIHandler])
def test_disconnect_cancels_the_view_and_sends_nothing(handler_class: type) -> None:
    async def go() -> dict[str, Any]:
        EVENTS["view_started"] = asyncio.Event()
        return await request(handler_class(), "/wait", disconnect_when=EVENTS["view_started"])

    response = run_on_fresh_loop(go)
    assert EVENTS.get("view_cancelled") is True
    assert response["messages"] == []


def test_disconnect_of_a_cancelled_request_finishes_it_on_the_loop(
    thread_starts: list[str],
) -> None:
    handler = ASGIHandler()

    async def go() -> None:
        EVENTS["view_started"] = asyncio.Event()
        await request(handler, "/wait", disconnect_when=EVENTS["view_started"])

    run_on_fresh_loop(go)
    assert handler.path_counts == {"inline": 1}
    assert thread_starts == []


@pytest.mark.parametrize("handler_class", [StockASGIHandler, ASGIHandler])
def test_disconnect_while_reading_the_body_never_starts_the_request(handler_class: type) -> None:
    started: list[Any] = []

    def on_started(**kwargs: Any) -> None:
        started.append(kwargs)

    async def go() -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        incoming = [{"type": "http.request", "body": b"x", "more_body": True}]

        async def receive() -> dict[str, Any]:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        scope = {"type": "http", "method": "POST", "path": "/body", "headers": []}
        await handler_class()(scope, receive, send)
        return messages

    signals.request_started.connect(on_started)
    try:
        assert run_on_fresh_loop(go) == []
    finally:
        signals.request_started.disconnect(on_started)
    assert started == []


@pytest.mark.parametrize("handler_class", [StockASGIHandler, ASGIHandler])
def test_body_over_data_upload_max_memory_size_is_refused_as_stock(
    handler_class: type, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    small = serve(handler_class, "/body", method="POST", body=b"0123456789")
    big = serve(handler_class, "/body", method="POST", chunks=[b"0123456789"], body=b"X")
    assert (small["status"], small["body"]) == (200, b"10")
    assert big["status"] == 400


@pytest.mark.parametrize("handler_class", [StockASGIHandler, ASGIHandler])
def test_script_prefix_comes_from_root_path(handler_class: type) -> None:
    response = serve(handler_class, "/where", root_path="/api")
    assert json.loads(response["body"]) == {
        "script_name": "/api",
        "path_info": "/where",
        "reversed": "/api/where",
    }


# --- the thread pool -------------------------------------------------------------------------


def test_lease_runs_on_bind_first_and_its_calls_in_order_on_one_thread() -> None:
    pool = ThreadPool(2)
    seen: list[tuple[str, str]] = []
    lease = pool.lease(on_bind=lambda: seen.append(("bind", threading.current_thread().name)))
    futures = [
        lease.submit(lambda n=n: seen.append((str(n), threading.current_thread().name)))
        for n in range(5)
    ]
    for future in futures:
        future.result(timeout=10)
    lease.release()
    assert [what for what, _ in seen] == ["bind", "0", "1", "2", "3", "4"]
    assert len({thread for _, thread in seen}) == 1


def test_lease_waits_for_a_thread_when_all_are_bound() -> None:
    pool = ThreadPool(1)
    gate = threading.Event()
    first, second = pool.lease(), pool.lease()
    held = first.submit(gate.wait, 10)
    queued = second.submit(lambda: threading.current_thread().name)
    assert not second.bound
    assert not queued.done()
    gate.set()
    held.result(timeout=10)
    first.release()
    assert queued.result(timeout=10) == "daf_drf-asgi-1"
    assert second.bound
    second.release()
    assert pool.threads == 1


def test_pool_without_reuse_gives_each_lease_a_fresh_thread_and_at_most_size_at_once() -> None:
    pool = ThreadPool(1, reuse=False)
    gate = threading.Event()
    first, second = pool.lease(), pool.lease()
    held = first.submit(gate.wait, 10)
    first_thread = first.thread
    queued = second.submit(threading.current_thread)
    assert first_thread is not None
    assert not second.bound  # one thread at most: the second lease waits
    assert not queued.done()
    gate.set()
    held.result(timeout=10)
    first.release()
    thread = queued.result(timeout=10)
    assert thread is not first_thread
    assert thread.name == "daf_drf-asgi-2"
    first_thread.join(10)
    assert not first_thread.is_alive()  # a lent thread ends with its lease
    second.release()
    thread.join(10)
    assert not thread.is_alive()
    assert pool.threads == 0


def test_lease_is_idle_only_when_every_call_submitted_to_it_has_finished() -> None:
    pool = ThreadPool(1)
    lease = pool.lease()
    assert not lease.idle  # no thread yet
    gate = threading.Event()
    running = lease.submit(gate.wait, 10)
    queued = lease.submit(lambda: "second")
    assert not lease.idle
    gate.set()
    running.result(timeout=10)
    assert queued.result(timeout=10) == "second"
    # Counted as finished before its future resolves: idle as soon as the result is seen.
    assert lease.idle
    lease.release()


def test_after_call_runs_on_the_thread_after_each_call_before_its_result_is_seen() -> None:
    pool = ThreadPool(1)
    seen: list[tuple[str, str]] = []

    def after() -> None:
        seen.append(("after", threading.current_thread().name))

    def fails() -> None:
        raise ValueError("the call's own error")

    lease = pool.lease(after_call=after)
    assert lease.submit(lambda: seen.append(("call", "")) or "ok").result(timeout=10) == "ok"
    assert seen[-1] == ("after", "daf_drf-asgi-1")
    with pytest.raises(ValueError, match="own error"):
        lease.submit(fails).result(timeout=10)
    assert [what for what, _ in seen] == ["call", "after", "after"]
    lease.release()


def test_an_after_call_that_raises_leaves_the_calls_outcome_and_the_thread() -> None:
    pool = ThreadPool(1)

    def broken() -> None:
        raise RuntimeError("bug in the hook")

    lease = pool.lease(after_call=broken)
    assert lease.submit(lambda: "result").result(timeout=10) == "result"
    assert lease.submit(lambda: "still serving").result(timeout=10) == "still serving"
    lease.release()
    assert pool.lease().submit(lambda: "next").result(timeout=10) == "next"


def test_released_with_work_still_running_the_thread_serves_no_one_else_until_it_ends() -> None:
    pool = ThreadPool(1)
    first, second = pool.lease(), pool.lease()
    first.submit(lambda: None).result(timeout=10)
    gate = threading.Event()
    leftover = first.submit(gate.wait, 10)  # sync work the request did not await
    first.release()
    queued = second.submit(lambda: "second request")
    time.sleep(0.05)
    assert not queued.done()  # the thread is still the first request's
    gate.set()
    leftover.result(timeout=10)
    assert queued.result(timeout=10) == "second request"
    second.release()


def test_released_idle_the_thread_goes_straight_to_the_next_lease() -> None:
    pool = ThreadPool(1)
    first, second = pool.lease(), pool.lease()
    thread = first.submit(threading.current_thread).result(timeout=10)
    queued = second.submit(threading.current_thread)
    assert not second.bound
    first.release()
    # Handed over by `release()` itself: the second lease is bound when it returns.
    assert second.bound
    assert queued.result(timeout=10) is thread
    second.release()
    assert pool.threads == 1


def test_failing_on_bind_fails_the_first_call_and_keeps_the_thread() -> None:
    pool = ThreadPool(1)

    def broken() -> None:
        raise RuntimeError("connection check failed")

    lease = pool.lease(on_bind=broken)
    with pytest.raises(RuntimeError, match="connection check failed"):
        lease.submit(lambda: None).result(timeout=10)
    assert lease.submit(lambda: "still serving").result(timeout=10) == "still serving"
    lease.release()
    assert pool.lease().submit(lambda: "next request").result(timeout=10) == "next request"


def test_pool_runs_all_of_a_requests_sync_work_on_one_pooled_thread() -> None:
    handler = ASGIHandler(thread_pool_size=2)
    response = serve(lambda: handler, "/uses-sync")
    threads = json.loads(response["body"])["threads"]
    assert threads[0] == threads[1]
    assert threads[0].startswith("daf_drf-asgi-")


def test_pool_never_lends_a_thread_to_two_requests_at_once() -> None:
    handler = ASGIHandler(thread_pool_size=4)
    EVENTS["log"] = []

    async def go() -> None:
        await asyncio.gather(*(request(handler, f"/interleave/{n}") for n in range(32)))

    run_on_fresh_loop(go)
    per_thread: dict[str, list[int]] = {}
    for thread, n in EVENTS["log"]:
        per_thread.setdefault(thread, []).append(n)
    assert len(EVENTS["log"]) == 96
    assert all(thread.startswith("daf_drf-asgi-") for thread in per_thread)
    assert len(per_thread) <= 4
    for sequence in per_thread.values():
        # Each request's calls form one contiguous run on its thread: no other request's
        # call ran on that thread between them.
        runs = [n for i, n in enumerate(sequence) if i == 0 or sequence[i - 1] != n]
        assert len(runs) == len(set(runs))


@pytest.mark.parametrize("configured", [8, 0])
def test_pool_holds_at_most_its_size_plus_a_constant_at_256_concurrent_requests(
    configured: int,
) -> None:
    size = configured or 8  # the opt-out (0): fresh threads, at most the default size at once
    handler = ASGIHandler(thread_pool_size=configured)
    peak = [0]

    async def go() -> list[int]:
        before = threading.active_count()

        async def sample() -> None:
            while not EVENTS.get("all_done"):
                peak[0] = max(peak[0], threading.active_count())
                await asyncio.sleep(0)

        sampler = asyncio.ensure_future(sample())
        statuses = [
            r["status"]
            for r in await asyncio.gather(*(request(handler, "/uses-sync") for _ in range(256)))
        ]
        EVENTS["all_done"] = True
        await sampler
        return [before, *statuses]

    before, *statuses = run_on_fresh_loop(go)
    assert statuses == [200] * 256
    # The loop's own threads plus the pool: nothing per request. Opted out, a thread that
    # served its request may still be exiting when its successor starts (which waits for it).
    assert peak[0] <= before + (size if configured else 2 * size) + 2
    assert handler.pool is not None
    assert handler.pool.threads <= size


def test_pool_thread_survives_a_request_cancelled_while_waiting_for_it() -> None:
    # One thread, held by a sync view. A second request queues for it and disconnects; the
    # thread must still come back to the pool and serve a third request.
    handler = ASGIHandler(thread_pool_size=1)

    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        EVENTS["holder_running"] = threading.Event()
        EVENTS["release_holder"] = threading.Event()
        holder = asyncio.ensure_future(request(handler, "/hold"))
        await asyncio.to_thread(EVENTS["holder_running"].wait, 30)
        gone = asyncio.Event()
        waiter = asyncio.ensure_future(request(handler, "/uses-sync", disconnect_when=gone))
        for _ in range(20):  # let the waiter reach its first sync call and queue
            await asyncio.sleep(0)
        gone.set()
        cancelled = await waiter
        EVENTS["release_holder"].set()
        await holder
        return cancelled, await request(handler, "/uses-sync")

    cancelled, third = run_on_fresh_loop(go)
    assert cancelled["messages"] == []
    assert third["status"] == 200
    assert json.loads(third["body"])["threads"] == ["daf_drf-asgi-1", "daf_drf-asgi-1"]
    assert handler.pool is not None
    assert handler.pool.threads == 1


@pytest.mark.parametrize("pool", [None, 0, 2])
def test_task_outliving_its_request_can_still_call_sync_code(pool: int | None) -> None:
    handler = ASGIHandler(thread_pool_size=pool)

    async def go() -> None:
        EVENTS["request_done"] = asyncio.Event()
        await request(handler, "/background")
        EVENTS["request_done"].set()
        await EVENTS["background"]

    run_on_fresh_loop(go)
    # As with Django's stock handler: a thread of its own, not a pooled one lent to another
    # request.
    assert not EVENTS["background_thread"].startswith(("daf_drf-asgi-", "test-loop"))


def test_pool_is_not_used_under_a_sync_caller_whose_thread_must_serve_the_request() -> None:
    # Async TestCase methods run requests from sync code (async_to_sync): thread-sensitive work
    # belongs on that caller's thread (its test transaction), so the pool steps aside.
    from asgiref.sync import async_to_sync

    handler = ASGIHandler(thread_pool_size=2)

    def from_sync_code() -> dict[str, Any]:
        return async_to_sync(request)(handler, "/uses-sync")

    outcome: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: outcome.update(r=from_sync_code()), name="caller")
    thread.start()
    thread.join(30)
    assert json.loads(outcome["r"]["body"])["threads"] == ["caller", "caller"]


# --- configuration and Django versions -------------------------------------------------------


def test_installed_django_matches_a_known_handler_shape() -> None:
    assert _asgi_compat.verify() in (_asgi_compat.HANDLE_TASKS, _asgi_compat.HANDLE_TASKGROUP)
    assert check_asgi() == []


def test_a_django_whose_handle_changed_falls_back_to_the_stock_handler_loudly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def changed_handle(self: Any, scope: Any, receive: Any, send: Any) -> None:
        await self.read_body(receive)

    monkeypatch.setattr(StockASGIHandler, "handle", changed_handle)
    with caplog.at_level("ERROR", logger="daf_drf.asgi"):
        app = get_asgi_application()
    # Never the copied handle() against changed Django code: Django's own handler.
    assert type(app) is StockASGIHandler
    assert "ASGIHandler.handle" in caplog.text
    assert "daf_drf.W050" in caplog.text
    with pytest.raises(ImproperlyConfigured, match=r"ASGIHandler\.handle"):
        ASGIHandler()  # constructing the entry directly still refuses
    assert [m.id for m in check_asgi()] == ["daf_drf.W050"]


@pytest.mark.parametrize("size", [-1, 2.5, "4", True])
def test_invalid_pool_size_is_a_configuration_error(size: Any, settings: Any) -> None:
    settings.DAF_DRF = {"ASGI_THREAD_POOL_SIZE": size}
    with pytest.raises(ImproperlyConfigured, match=r"daf_drf\.E051"):
        ASGIHandler()
    assert [m.id for m in check_asgi()] == ["daf_drf.E051"]


@pytest.fixture
def conn_max_age(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], None]:
    from django.db import connection

    def set_it(max_age: Any) -> None:
        monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", max_age)

    return set_it


@pytest.mark.parametrize("max_age", [60, None, 0.5])
def test_entry_opted_out_of_its_thread_pool_refuses_persistent_connections(
    max_age: Any, settings: Any, conn_max_age: Callable[[Any], None]
) -> None:
    # Changed on purpose (issue 17): the entry has a thread pool by default, so only the
    # explicit opt-out (0) leaves persistent connections on threads nothing reuses.
    conn_max_age(max_age)
    settings.DAF_DRF = {"ASGI_THREAD_POOL_SIZE": 0}
    with pytest.raises(ImproperlyConfigured, match=r"daf_drf\.E053"):
        ASGIHandler()
    with pytest.raises(ImproperlyConfigured, match=r"CONN_MAX_AGE"):
        ASGIHandler(thread_pool_size=0)
    assert [m.id for m in check_asgi()] == ["daf_drf.E053"]


@pytest.mark.parametrize("configured", [{}, {"ASGI_THREAD_POOL_SIZE": None}])
def test_entry_has_a_bounded_thread_pool_of_8_by_default(
    configured: dict[str, Any], settings: Any, conn_max_age: Callable[[Any], None]
) -> None:
    conn_max_age(60)
    settings.DAF_DRF = configured
    handler = ASGIHandler()
    assert handler.pool is not None
    assert (handler.pool.size, handler.pool.reuse) == (8, True)
    assert check_asgi() == []


def test_entry_opted_out_of_its_pool_still_bounds_its_threads_to_the_default_size() -> None:
    handler = ASGIHandler(thread_pool_size=0)
    assert handler.pool is not None
    assert (handler.pool.size, handler.pool.reuse) == (8, False)


def test_entry_with_a_thread_pool_accepts_persistent_connections(
    settings: Any, conn_max_age: Callable[[Any], None]
) -> None:
    conn_max_age(60)
    settings.DAF_DRF = {"ASGI_THREAD_POOL_SIZE": 2}
    assert ASGIHandler().pool is not None
    assert ASGIHandler(thread_pool_size=3).pool is not None
    assert check_asgi() == []


def test_non_http_scope_is_refused_like_django() -> None:
    async def go() -> None:
        await ASGIHandler()({"type": "websocket"}, None, None)

    with pytest.raises(ValueError, match="only handle ASGI/HTTP connections"):
        run_on_fresh_loop(go)


# --- database connections (subprocess, file SQLite) ------------------------------------------

PROBE = Path(__file__).with_name("_asgi_db_probe.py")


def run_probe(tmp_path: Path, scenario: str, **options: Any) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROBE.parent.parent),
        "PROBE_DB": str(tmp_path / "probe.sqlite3"),
        "PROBE_OPTIONS": json.dumps(options),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, str(PROBE), scenario],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.parametrize("handler", ["stock", "entry", "pool", "opt-out"])
def test_connection_opened_by_a_sync_hop_is_closed_in_its_own_thread(
    tmp_path: Path, handler: str
) -> None:
    result = run_probe(tmp_path, "one_request", handler=handler, conn_max_age=0)
    assert result["status"] == 200
    assert result["closed_after_request"] is True
    assert result["closed_on"] == [result["opened_on"]]


# daf_drf's entry opted out of its pool refuses CONN_MAX_AGE > 0 (daf_drf.E053, tested above).
@pytest.mark.parametrize("handler", ["stock", "entry", "pool"])
def test_connection_is_kept_with_conn_max_age(tmp_path: Path, handler: str) -> None:
    result = run_probe(tmp_path, "one_request", handler=handler, conn_max_age=60)
    assert result["status"] == 200
    assert result["closed_after_request"] is False
    assert result["closed_on"] == []


def test_pool_reuses_a_persistent_connection_on_its_thread(tmp_path: Path) -> None:
    result = run_probe(tmp_path, "two_requests", handler="pool", conn_max_age=60)
    assert result["threads"][0] == result["threads"][1]
    assert result["connections"][0] == result["connections"][1]


def test_pool_checks_old_connections_on_the_pooled_thread_when_bound(tmp_path: Path) -> None:
    # Between the requests the thread's connection becomes obsolete; the start-of-request
    # check must run on that thread (not only on the loop) and close it before the view runs.
    result = run_probe(tmp_path, "two_requests", handler="pool", conn_max_age=60, expire=True)
    assert result["threads"][0] == result["threads"][1]
    assert result["connections"][0] != result["connections"][1]
    assert result["closed_on"] == [result["threads"][0]]


END_OF_REQUEST = ["none", "expire", "errors", "autocommit", "background", "own-check"]


@pytest.mark.parametrize("during", END_OF_REQUEST)
@pytest.mark.parametrize("handler", ["entry", "pool"])
def test_end_of_request_connection_check_matches_the_stock_handler(
    tmp_path: Path, handler: str, during: str
) -> None:
    # With CONN_MAX_AGE, a request that used a pooled thread ends with Django's
    # `close_old_connections` there. The entry skips that hop only when the check would
    # close nothing (`during="none"`: it then resets the health-check flag, the check's one
    # effect); an obsolete, failed or non-autocommit connection, or sync work still running
    # on the thread, takes the hop. Either way the outcome is the stock handler's.
    results = {}
    for kind in ("stock", handler):
        (tmp_path / kind).mkdir()
        options = {"handler": kind, "conn_max_age": 60, "during": during}
        results[kind] = run_probe(tmp_path / kind, "end_of_request", **options)
    stock, ours = results["stock"], results[handler]
    for result in (stock, ours):
        assert result["status"] == 200
        # Whatever closed the connection ran on the thread that opened it.
        assert set(result["closed_on"]) <= {result["opened_on"]}
    for key in ("closed_after_request", "errors_occurred", "health_check_done", "autocommit"):
        assert ours[key] == stock[key], key
    events = [e.replace(ours["opened_on"], "THREAD") for e in ours["events"]]
    assert events == [e.replace(stock["opened_on"], "THREAD") for e in stock["events"]]
    assert stock["closed_after_request"] is (during in ("expire", "autocommit", "background"))
    assert stock["health_check_done"] is (during == "errors")
    if during == "background":
        # The check queued behind the view's unawaited sync work, as on the stock path.
        assert ours["events"] == ["background done", "closed"]
    if during == "own-check":
        assert ours["events"] == [f"own check on {ours['opened_on']}"]
    assert ours["paths"] == ({"inline": 1} if during == "none" else {"stock": 1})


# --- a real server ---------------------------------------------------------------------------

SERVER = """
import sys
import django
from django.conf import settings

settings.configure(
    DEBUG=False, SECRET_KEY="e2e", ALLOWED_HOSTS=["*"], USE_TZ=True, ROOT_URLCONF="__main__",
    MIDDLEWARE=[], INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                                   "rest_framework"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    REST_FRAMEWORK={"DEFAULT_AUTHENTICATION_CLASSES": [], "DEFAULT_PERMISSION_CLASSES": [],
                    "UNAUTHENTICATED_USER": None},
)
django.setup()

import uvicorn
from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from daf_drf.asgi import get_asgi_application
from daf_drf.views import APIView


class Hello(APIView):
    async def get(self, request):
        return Response({"hello": "world"})


async def counts(request):
    return JsonResponse(dict(application.path_counts))


urlpatterns = [path("hello", Hello.as_view()), path("counts", counts)]
application = get_asgi_application()
uvicorn.run(application, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            lifespan="off")
"""


@pytest.mark.e2e
def test_under_uvicorn_daf_drf_requests_take_the_inline_path() -> None:
    import time

    import httpx

    from tests.support.processes import free_port, stop

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{base}/counts", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("uvicorn did not start")
                time.sleep(0.05)

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=base, timeout=10) as client:
                return await asyncio.gather(*(client.get("/hello") for _ in range(50)))

        responses = asyncio.run(burst())
        assert {(r.status_code, r.content) for r in responses} == {(200, b'{"hello":"world"}')}
        # Every request so far (the readiness probe, the burst) took the inline path. A
        # request is counted after its response is sent, so the last few may still be
        # finishing: never a "stock" one, though.
        counts = httpx.get(f"{base}/counts", timeout=5).json()
        assert set(counts) == {"inline"}
        assert 45 <= counts["inline"] <= 51
    finally:
        stop(server)
