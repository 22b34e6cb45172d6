"""
The Redis store against a real redis-server: exactness, one round trip, TTLs, memory, clocks,
event loops, and every way the server can fail.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from daf_drf.backends import StoreUnavailable
from daf_drf.backends._redis_client import redact, sentinel_parts
from daf_drf.backends.redis import RedisStore
from daf_drf.hooks import inline_safe
from daf_drf.throttling import SimpleRateThrottle
from tests.support.processes import free_port, redis_server_argv, start, stop
from tests.support.redis import (
    BlackHole,
    cluster_port,
    command_calls,
    form_cluster,
    start_redis,
    start_sentinel,
    stop_redis,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def store(clean_redis: str) -> Iterator[RedisStore]:
    store = RedisStore(clean_redis, timeout=5.0, pool_size=50, key_prefix="test:")
    try:
        yield store
    finally:
        store.close()


def raw(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def ask(url: str, method: str, *args: Any) -> Any:
    """One command on a client that is closed right after (no socket left to the GC)."""
    with raw(url) as client:
        return getattr(client, method)(*args)


# --- exactness ------------------------------------------------------------------------------


class ExactThrottle(SimpleRateThrottle):
    rate = "100/min"
    scope = "exact"
    store: str | None = None

    @inline_safe
    def get_cache_key(self, request: Any, view: Any) -> str:
        return "exact-key"


def a_request() -> Request:
    return Request(APIRequestFactory().get("/"))


async def gather_checks(n: int) -> list[bool]:
    barrier = asyncio.Barrier(n)

    async def one() -> bool:
        throttle = ExactThrottle()
        await barrier.wait()
        return await throttle.aallow_request(a_request(), None)

    return await asyncio.gather(*(one() for _ in range(n)))


def test_1000_concurrent_async_checks_admit_exactly_100_twenty_runs_in_a_row(
    clean_redis: str, settings: Any
) -> None:
    settings.DAF_DRF = {
        "THROTTLE_STORE": clean_redis,
        "THROTTLE_TIMEOUT": 10.0,
        "THROTTLE_FAILURE": "closed",
    }
    client = raw(clean_redis)
    for _run in range(20):
        client.flushall()
        results = asyncio.run(gather_checks(1000))
        assert results.count(True) == 100
    client.close()


def test_sync_threads_and_async_callers_on_one_key_admit_exactly_the_limit(
    clean_redis: str, settings: Any
) -> None:
    settings.DAF_DRF = {
        "THROTTLE_STORE": clean_redis,
        "THROTTLE_TIMEOUT": 10.0,
        "THROTTLE_FAILURE": "closed",
    }
    threads_results: list[bool] = []
    start = threading.Barrier(9)

    def sync_caller() -> None:
        start.wait()
        for _ in range(50):
            threads_results.append(ExactThrottle().allow_request(a_request(), None))

    threads = [threading.Thread(target=sync_caller) for _ in range(8)]
    for thread in threads:
        thread.start()

    async def async_callers() -> list[bool]:
        await asyncio.to_thread(start.wait)
        return await gather_checks(400)

    async_results = asyncio.run(async_callers())
    for thread in threads:
        thread.join()
    assert len(threads_results) == 400
    assert threads_results.count(True) + async_results.count(True) == 100


# --- the script -----------------------------------------------------------------------------


def test_one_round_trip_per_check(store: RedisStore, clean_redis: str) -> None:
    store.hit("warm", 5, 60, None)  # connection setup (HELLO, CLIENT SETINFO) happens here
    ask(clean_redis, "config_resetstat")
    for _ in range(10):
        store.hit("k", 5, 60, None)
    counted = command_calls(clean_redis)
    # commandstats also counts the commands the script itself calls; those never cross the
    # network; the inspecting connection's handshake (HELLO, CLIENT SETINFO) is not the
    # store's. Everything the store sent is the 10 EVALSHAs (plus this test's CONFIG).
    script = {"time", "lindex", "rpop", "llen", "lpush", "pexpire"}
    sent_by_client = set(counted) - script - {"hello", "client|setinfo"}
    assert sent_by_client == {"evalsha", "config|resetstat"}
    assert counted["evalsha"] == 10


def test_noscript_falls_back_to_eval(store: RedisStore, clean_redis: str) -> None:
    store.hit("k", 5, 60, None)
    ask(clean_redis, "script_flush")
    decision = store.hit("k", 5, 60, None)
    assert (decision.allowed, decision.count) == (True, 2)


def test_denied_request_is_not_recorded(store: RedisStore) -> None:
    for _ in range(3):
        store.hit("k", 3, 60, 100.0)
    denied = store.hit("k", 3, 60, 101.0)
    assert (denied.allowed, denied.count, denied.oldest, denied.newest) == (False, 3, 100.0, 100.0)


def test_window_slides_like_drfs_log(store: RedisStore) -> None:
    store.hit("k", 2, 60, 0.0)
    store.hit("k", 2, 60, 30.0)
    assert not store.hit("k", 2, 60, 59.0).allowed
    after = store.hit("k", 2, 60, 60.0)  # the entry at 0 is at the window's edge: dropped
    assert (after.allowed, after.count, after.oldest, after.newest) == (True, 2, 30.0, 60.0)


def test_every_key_has_a_ttl_of_the_window(store: RedisStore, clean_redis: str) -> None:
    store.hit("a", 3, 60, None)
    store.hit("b", 3, 86400, None)
    client = raw(clean_redis)
    for key in client.keys("*"):
        assert client.ttl(key) > 0
    assert 59 <= client.ttl("test:a") <= 60
    assert 86399 <= client.ttl("test:b") <= 86400
    client.close()


def test_a_zero_rate_creates_no_key(store: RedisStore, clean_redis: str) -> None:
    assert not store.hit("zero", 0, 60, None).allowed
    assert ask(clean_redis, "exists", "test:zero") == 0


def test_history_is_capped_at_num_requests(store: RedisStore, clean_redis: str) -> None:
    for _ in range(250):
        store.hit("k", 100, 60, 5.0)
    assert ask(clean_redis, "llen", "test:k") == 100


@pytest.mark.parametrize(("num", "limit_bytes"), [(100, 2_500), (1000, 24_000)])
def test_memory_per_full_key_is_bounded(
    store: RedisStore, clean_redis: str, num: int, limit_bytes: int
) -> None:
    for _ in range(num):
        store.hit("k", num, 86400, None)
    usage = ask(clean_redis, "memory_usage", "test:k")
    assert usage is not None
    assert usage < limit_bytes


def test_server_clock_is_used_when_no_time_is_injected(store: RedisStore, clean_redis: str) -> None:
    seconds, micros = ask(clean_redis, "time")
    decision = store.hit("k", 3, 60, None)
    assert abs(decision.now - (seconds + micros / 1e6)) < 2


def test_injected_time_is_used_as_is(store: RedisStore) -> None:
    assert store.hit("k", 3, 60, 1234.5).now == 1234.5


def test_throttle_uses_server_clock_unless_timer_is_overridden(clean_redis: str) -> None:
    class ServerClock(SimpleRateThrottle):
        rate = "3/min"

    class Injected(SimpleRateThrottle):
        rate = "3/min"

        def timer(self) -> float:  # type: ignore[override]
            return 42.0

    store = RedisStore(clean_redis)
    assert ServerClock()._now(store) is None
    assert Injected()._now(store) == 42.0
    store.close()


# --- event loops ----------------------------------------------------------------------------


def test_each_event_loop_gets_its_own_client_and_closes_it(store: RedisStore) -> None:
    async def check() -> Any:
        await store.ahit("k", 10, 60, None)
        return await store.async_client()

    first = asyncio.run(check())
    second = asyncio.run(check())
    assert first is not second
    gc.collect()  # an unclosed connection would warn here, and warnings are errors
    assert store.hit("k", 10, 60, None).count == 3


# --- failures -------------------------------------------------------------------------------


def test_refused_connection_is_unavailable_sync_and_async() -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    with pytest.raises(StoreUnavailable):
        store.hit("k", 3, 60, None)
    with pytest.raises(StoreUnavailable):
        asyncio.run(store.ahit("k", 3, 60, None))


def test_a_server_that_never_answers_is_unavailable_within_the_timeout(
    black_hole: BlackHole,
) -> None:
    store = RedisStore(black_hole.url, timeout=0.2)
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.hit("k", 3, 60, None)
    with pytest.raises(StoreUnavailable):
        asyncio.run(store.ahit("k", 3, 60, None))
    # redis-py's own default would wait 5 s per attempt and retry three times.
    assert time.monotonic() - started < 3
    store.close()


def test_an_exhausted_pool_is_an_outage_not_an_error(black_hole: BlackHole) -> None:
    store = RedisStore(black_hole.url, timeout=0.2, pool_size=1)

    async def two_at_once() -> list[Any]:
        return await asyncio.gather(
            store.ahit("k", 3, 60, None), store.ahit("k", 3, 60, None), return_exceptions=True
        )

    results = asyncio.run(two_at_once())
    assert [type(r) for r in results] == [StoreUnavailable, StoreUnavailable]
    store.close()


def test_an_exhausted_sync_pool_is_an_outage_not_an_error(black_hole: BlackHole) -> None:
    store = RedisStore(black_hole.url, timeout=0.3, pool_size=1)
    outcomes: list[type[BaseException] | None] = []

    def check() -> None:
        try:
            store.hit("k", 3, 60, None)
        except BaseException as exc:  # record whatever escapes, to assert on its type
            outcomes.append(type(exc))
        else:
            outcomes.append(None)

    threads = [threading.Thread(target=check) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    assert outcomes == [StoreUnavailable] * 3


def test_an_outage_is_logged_once_and_the_recovery_once(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()
    server = start_redis(port)
    store = RedisStore(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    try:
        store.hit("k", 100, 60, None)
        with caplog.at_level(logging.WARNING, logger="daf_drf.throttling"):
            stop_redis(server)
            for _ in range(3):
                with pytest.raises(StoreUnavailable):
                    store.hit("k", 100, 60, None)
                with pytest.raises(StoreUnavailable):
                    asyncio.run(store.ahit("k", 100, 60, None))
            server = start_redis(port)
            for _ in range(3):
                assert store.hit("k", 100, 60, None).allowed
    finally:
        store.close()
        stop_redis(server)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "unavailable" in messages[0]
    assert "available again" in messages[1]


# --- URLs -----------------------------------------------------------------------------------


def test_sentinel_url_names_nodes_service_and_db() -> None:
    nodes, service, db, auth = sentinel_parts("redis+sentinel://:pw@s1:26379,s2:26380/main/2")
    assert (nodes, service, db, auth) == (
        [("s1", 26379), ("s2", 26380)],
        "main",
        2,
        {"password": "pw"},
    )


def test_passwords_never_reach_the_logs() -> None:
    assert redact("redis://user:secret@host:6379/0") == "redis://user:***@host:6379/0"


# --- end to end: two uvicorn workers, one limit -----------------------------------------------

E2E_SETTINGS = """
from tests.settings import *  # noqa: F403

ROOT_URLCONF = "e2e_urls"
MIDDLEWARE = ["e2e_urls.pid_middleware"]
DAF_DRF = {{"THROTTLE_STORE": {url!r}, "THROTTLE_TIMEOUT": 10.0, "THROTTLE_FAILURE": "closed"}}
REST_FRAMEWORK = {{"DEFAULT_AUTHENTICATION_CLASSES": [], "NUM_PROXIES": 0}}
"""

E2E_URLS = """
import os

from django.http import HttpResponse
from django.utils.decorators import async_only_middleware
from django.urls import path
from rest_framework import views as drf_views
from rest_framework.response import Response

from daf_drf import views as daf_views
from daf_drf.throttling import AnonRateThrottle


class Throttle(AnonRateThrottle):
    rate = "100/min"


class DrfView(drf_views.APIView):
    throttle_classes = [Throttle]

    def get(self, request):
        return Response("drf")


class DafView(daf_views.APIView):
    throttle_classes = [Throttle]

    async def get(self, request):
        return Response("daf")


async def ready(request):
    return HttpResponse("ok")


@async_only_middleware
def pid_middleware(get_response):
    async def middleware(request):
        response = await get_response(request)
        response["X-Worker"] = str(os.getpid())
        return response

    return middleware


urlpatterns = [path("drf/", DrfView.as_view()), path("daf/", DafView.as_view()),
               path("ready/", ready)]
"""

E2E_ASGI = """
from django.core.asgi import get_asgi_application

application = get_asgi_application()
"""


@pytest.mark.e2e
def test_two_uvicorn_workers_and_500_clients_admit_exactly_the_limit(
    clean_redis: str, tmp_path: Any
) -> None:
    import os
    import sys

    import httpx

    (tmp_path / "e2e_settings.py").write_text(E2E_SETTINGS.format(url=clean_redis))
    (tmp_path / "e2e_urls.py").write_text(E2E_URLS)
    (tmp_path / "e2e_asgi.py").write_text(E2E_ASGI)
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "e2e_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), os.getcwd()]),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "e2e_asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Ready when both worker processes have answered (each response names its PID): a
        # burst sent while one worker still starts would all land on the other.
        deadline = time.monotonic() + 60
        workers: set[str] = set()
        while len(workers) < 2:
            try:
                answer = httpx.get(f"{base}/ready/", timeout=1)
                if answer.status_code == 200:
                    workers.add(answer.headers["X-Worker"])
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                pytest.fail(f"uvicorn did not start both workers (saw {len(workers)})")
            time.sleep(0.05)

        async def hammer() -> list[int]:
            limits = httpx.Limits(max_connections=500, max_keepalive_connections=0)
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:
                responses = await asyncio.gather(
                    *(client.get("/drf/" if i % 2 else "/daf/") for i in range(500))
                )
            return [(r.status_code, r.headers["X-Worker"]) for r in responses]

        results = asyncio.run(hammer())
    finally:
        stop(server, timeout=20)
        assert server.stderr is not None
        server.stderr.close()
    statuses = [status for status, _ in results]
    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == 100
    assert len({worker for _, worker in results}) == 2  # both processes served requests


# --- Sentinel and Cluster, real processes ---------------------------------------------------


@pytest.fixture
def sentinel_url(clean_redis: str, tmp_path: Any) -> Iterator[str]:
    master_port = int(clean_redis.rsplit(":", 1)[1].split("/")[0])
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor main 127.0.0.1 {master_port} 1\n"
    )
    proc = start_sentinel(conf, port)
    try:
        yield f"redis+sentinel://127.0.0.1:{port}/main/0"
    finally:
        stop_redis(proc)


@pytest.fixture
def cluster_url(tmp_path: Any) -> Iterator[str]:
    ports = [cluster_port() for _ in range(3)]
    procs = []
    try:
        for port in ports:
            procs.append(
                start_redis(
                    port,
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"nodes-{port}.conf",
                    "--dir",
                    str(tmp_path),
                )
            )
        form_cluster(ports, timeout=20)
        yield f"redis+cluster://127.0.0.1:{ports[0]}"
    finally:
        for proc in procs:
            stop_redis(proc)


def exactness_on(url: str) -> tuple[list[bool], list[bool]]:
    store = RedisStore(url, timeout=5.0)
    try:
        sync = [store.hit(f"{{user:{i % 7}}}", 3, 60, None).allowed for i in range(35)]

        async def checks() -> list[bool]:
            decisions = await asyncio.gather(
                *(store.ahit("shared", 10, 60, None) for _ in range(50))
            )
            return [d.allowed for d in decisions]

        return sync, asyncio.run(checks())
    finally:
        store.close()
        gc.collect()  # a connection left open (to a node or a sentinel) would warn here


def test_sentinel_url_reaches_the_master(sentinel_url: str) -> None:
    sync, concurrent = exactness_on(sentinel_url)
    assert sync.count(True) == 21  # 7 keys x 3
    assert concurrent.count(True) == 10


def test_cluster_url_routes_each_check_to_its_slot(cluster_url: str) -> None:
    sync, concurrent = exactness_on(cluster_url)
    assert sync.count(True) == 21
    assert concurrent.count(True) == 10


def test_cluster_checks_keys_of_different_slots_in_one_batch(cluster_url: str) -> None:
    # A script cannot span hash slots: on Cluster a batch is one script call per key.
    store = RedisStore(cluster_url, timeout=5.0)

    async def batches() -> list[list[bool]]:
        try:
            out = []
            for _ in range(4):
                decisions = await store.ahit_many([("{a}x", 3, 60, None), ("{b}y", 2, 60, None)])
                out.append([d.allowed for d in decisions])
            return out
        finally:
            await store.aclose()

    try:
        assert asyncio.run(batches()) == [[True, True], [True, True], [True, False], [False, False]]
    finally:
        store.close()


def test_unix_socket_url(tmp_path: Any) -> None:
    path = tmp_path / "redis.sock"
    proc = start(
        redis_server_argv(0, "--unixsocket", str(path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not path.exists():
            if time.monotonic() > deadline:
                pytest.fail("redis-server did not create its socket")
            time.sleep(0.02)
        sync, concurrent = exactness_on(f"unix://{path}")
    finally:
        stop_redis(proc)
    assert sync.count(True) == 21
    assert concurrent.count(True) == 10


def test_a_closed_event_loop_is_not_kept_alive_by_the_store(clean_redis: str) -> None:
    # WSGI and Django's sync test client run each request in a new loop: the store must not
    # keep every loop (and its client) it has seen.
    import weakref

    from asgiref.sync import async_to_sync

    store = RedisStore(clean_redis, timeout=5.0, pool_size=5, key_prefix="test:")
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def check() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await store.ahit("loops", 100, 60, None)

    try:
        for _ in range(5):
            async_to_sync(check)()
        gc.collect()
        assert len(store._clients) == 0
        assert len(store._gates) == 0
        assert all(ref() is None for ref in loops)
    finally:
        store.close()
