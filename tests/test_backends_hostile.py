"""
No reply can break the Redis store: a wrong-shaped, oversized, endless or malformed reply is a
store failure (the configured THROTTLE_FAILURE, logged once per outage), never a 500, never
unbounded in memory or time, with both of the lean client's parsers; and a bug in daf_drf's
own decoding is a 500, never an admit.

The server is `tests.hostile_redis.HostileRedis`, a real TCP server on loopback; requests go
through Django's ASGI handler (async views, the lean client) and Django's test client (DRF's
sync views, redis-py).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.test import Client
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView as DRFAPIView

import daf_drf.backends.redis as redis_backend
from daf_drf.backends._resp_reader import MAX_REPLY, PyReader
from daf_drf.backends.redis import RedisStore
from daf_drf.hooks import inline_safe
from daf_drf.throttling import SimpleRateThrottle
from daf_drf.views import APIView
from tests.asgi_client import asgi_request
from tests.hostile_redis import CASES, WRONG_SHAPES, HostileRedis

PARSERS = ["python", "auto"]  # "auto" is hiredis (the `test` extra installs it)
TIMEOUT = 0.5
REQUESTS = 2

_store: dict[str, Any] = {}


class HostileThrottle(SimpleRateThrottle):
    rate = "100/min"
    scope = "hostile"

    def get_store(self) -> Any:
        return _store["store"]

    @inline_safe
    def get_cache_key(self, request: Any, view: Any) -> str:
        return f"hostile:{request.query_params['case']}"


class AsyncView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [HostileThrottle]

    async def get(self, request: Any) -> Response:
        return Response({"admitted": True})


class SyncView(DRFAPIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [HostileThrottle]

    def get(self, request: Any) -> Response:
        return Response({"admitted": True})


urlpatterns = [path("async", AsyncView.as_view()), path("sync", SyncView.as_view())]


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileRedis]:
    with HostileRedis() as server:
        yield server


@pytest.fixture
def use(settings: Any) -> Any:
    def configure(store: RedisStore, mode: str) -> None:
        settings.ROOT_URLCONF = __name__
        settings.DAF_DRF = {"THROTTLE_FAILURE": mode, "THROTTLE_TIMEOUT": TIMEOUT}
        _store["store"] = store

    yield configure
    _store.clear()


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


_libc = ctypes.CDLL(ctypes.util.find_library("c"))
_libc.mallinfo2.restype = _MallInfo2


def _heap() -> int:
    """Bytes malloc has handed out and not taken back: hiredis's buffers, large objects."""
    info = _libc.mallinfo2()
    return int(info.uordblks + info.hblkhd)


def _rss() -> dict[str, int]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0]) * 1024
    return found


def _reset_peak() -> int:
    # Writing 5 to clear_refs resets the peak (VmHWM) to the current RSS (Linux >= 4.0).
    Path("/proc/self/clear_refs").write_text("5")
    return _rss()["VmRSS"]


async def _requests(case: str) -> tuple[list[int], float, int]:
    """
    `REQUESTS` requests through the ASGI handler; the loop's longest stall meanwhile, and the
    largest growth of malloc's in-use bytes seen by the probe, which runs between callbacks.

    A stall is measured as the CPU time the loop's thread spent between two ticks of a probe
    that asks to run every 5 ms: work that blocks the loop (a parser, a copy) is CPU time on
    this thread, while the time the OS gives to other processes on a busy machine is not.
    """
    stall = 0.0
    base = peak = _heap()
    done = asyncio.Event()

    async def probe() -> None:
        nonlocal peak, stall
        while not done.is_set():
            before = time.thread_time()
            await asyncio.sleep(0.005)
            stall = max(stall, time.thread_time() - before)
            peak = max(peak, _heap())

    probing = asyncio.create_task(probe())
    statuses = []
    try:
        for _ in range(REQUESTS):
            result = await asgi_request("GET", "/async", query=f"case={case}")
            statuses.append(result.status or 0)
    finally:
        done.set()
        await probing
        await _store["store"].aclose()
    return statuses, stall, peak - base


@pytest.mark.parametrize("mode", ["open", "closed"])
@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("case", sorted(set(CASES) - {"good"}))
def test_a_hostile_reply_is_a_store_failure_in_bounded_memory_and_time(
    hostile: HostileRedis, use: Any, caplog: pytest.LogCaptureFixture, case: str, parser: str,
    mode: str,
) -> None:  # fmt: skip
    store = RedisStore(hostile.url, timeout=TIMEOUT, parser=parser)
    use(store, mode)
    asyncio.run(_requests("good"))  # warm: imports, URL resolution, the first connection
    store.outage.succeeded()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="daf_drf.throttling"):
        base = _reset_peak()
        statuses, stall, heap_growth = asyncio.run(_requests(case))
        growth = _rss()["VmHWM"] - base
    expected = 200 if mode == "open" else 429
    assert Counter(statuses) == {expected: REQUESTS}  # 0 500s, the failure mode each time
    assert stall < TIMEOUT + 0.05, stall
    # Peak RSS growth (which memory an earlier case freed can hide) and malloc's in-use bytes
    # sampled between callbacks (which nothing hides): both under twice the cap on a reply.
    assert growth < 2 * MAX_REPLY, growth
    assert heap_growth < 2 * MAX_REPLY, heap_growth
    outages = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    assert len(outages) == 1, [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("mode", ["open", "closed"])
@pytest.mark.parametrize("case", sorted(WRONG_SHAPES))
def test_a_wrong_shaped_reply_to_a_sync_check_is_a_store_failure(
    hostile: HostileRedis, use: Any, caplog: pytest.LogCaptureFixture, case: str, mode: str
) -> None:
    store = RedisStore(hostile.url, timeout=TIMEOUT)
    use(store, mode)
    client = Client(raise_request_exception=False)
    try:
        with caplog.at_level(logging.WARNING, logger="daf_drf.throttling"):
            statuses = [client.get("/sync", {"case": case}).status_code for _ in range(REQUESTS)]
    finally:
        store.close()
    assert Counter(statuses) == {200 if mode == "open" else 429: REQUESTS}
    outages = [r for r in caplog.records if "is unavailable" in r.getMessage()]
    assert len(outages) == 1


def _parse_cpu_seconds(items: int) -> float:
    # An array of `items` integers, fed in 7-byte reads: a parser that restarts the array on
    # every read does work quadratic in `items`.
    wire = b"*%d\r\n" % items + b":1\r\n" * items
    reader = PyReader()
    started = time.process_time()
    replies = []
    for index in range(0, len(wire), 7):
        reader.feed(wire[index : index + 7])
        while (reply := reader.gets()) is not False:
            replies.append(reply)
    took = time.process_time() - started
    assert replies == [[1] * items]
    return took


def test_the_python_parser_works_linearly_in_the_bytes_received() -> None:
    small = min(_parse_cpu_seconds(2_000) for _ in range(3))
    large = min(_parse_cpu_seconds(8_000) for _ in range(3))
    # 4x the bytes: about 4x the work when linear, 16x when quadratic.
    assert large < 8 * small, (small, large)


# --- a bug is a bug ---------------------------------------------------------------------


def _planted_bug(value: Any) -> float | None:
    raise TypeError("a bug planted in the decode path")


@pytest.mark.parametrize("mode", ["open", "closed"])
def test_a_bug_in_the_decode_path_is_a_500_not_an_admit(
    clean_redis: str, use: Any, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    store = RedisStore(clean_redis, timeout=5.0)
    use(store, mode)
    monkeypatch.setattr(redis_backend, "_entry", _planted_bug)

    async def one() -> int:
        try:
            return (await asgi_request("GET", "/async", query="case=bug")).status or 0
        finally:
            await store.aclose()

    try:
        assert asyncio.run(one()) == 500
        sync = Client(raise_request_exception=False).get("/sync", {"case": "bug"})
        assert sync.status_code == 500
        assert not store.outage.down  # not taken for an outage: the failure mode is untouched
    finally:
        store.close()
        redis.Redis.from_url(clean_redis).delete("daf_drf:hostile:bug")
