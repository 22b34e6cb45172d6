"""
Items 1, 3, 4 and 5 over HTTP: exact admission across worker processes, store outages, pool
exhaustion and clocks, through real uvicorn servers sharing the run's real redis-server.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.reliability.server import Server, serve
from tests.support.processes import free_port
from tests.support.redis import BlackHole


async def _burst(url: str, clients: int, path: str = "/throttled") -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        gate = asyncio.Event()

        async def one() -> httpx.Response:
            await gate.wait()
            return await client.get(path)

        tasks = [asyncio.create_task(one()) for _ in range(clients)]
        await asyncio.sleep(0.05)
        gate.set()
        responses = await asyncio.gather(*tasks)
    # Let the closed connections' transports finish closing before `asyncio.run` ends the loop
    # (otherwise they are collected later, as "unclosed transport", during another test).
    await asyncio.sleep(0.2)
    return responses


def _statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def test_two_workers_and_500_clients_admit_exactly_the_limit(
    tmp_path: Path, clean_redis: str
) -> None:
    env = {
        "RELIABILITY_THROTTLE_STORE": clean_redis,
        "RELIABILITY_RATE": "100/min",
        "RELIABILITY_POOL": "100",
    }
    with serve(tmp_path, env, workers=2) as server:
        responses = asyncio.run(_burst(server.url, 500))
    assert _statuses(responses) == {200: 100, 429: 400}
    assert all(int(r.headers["Retry-After"]) >= 1 for r in responses if r.status_code == 429)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A TCP server that accepts connections and never answers: its `redis://` URL."""
    server = BlackHole(backlog=1024)
    try:
        yield server.url
    finally:
        server.close()


def _refusing() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


@pytest.mark.parametrize("outage", ["refused", "never answers"])
@pytest.mark.parametrize("mode", ["open", "closed"])
def test_a_store_outage_follows_the_failure_mode_within_the_timeout(
    tmp_path: Path, black_hole: str, outage: str, mode: str
) -> None:
    timeout = 0.3
    store = _refusing() if outage == "refused" else black_hole
    env = {
        "RELIABILITY_THROTTLE_STORE": store,
        "RELIABILITY_FAILURE": mode,
        "RELIABILITY_TIMEOUT": str(timeout),
    }
    with (
        serve(tmp_path, env, migrate=False) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        assert client.get("/ident", params={"id": "warm"}).status_code == 200  # lazy imports
        durations, responses = [], []
        for _ in range(20):
            started = time.monotonic()
            responses.append(client.get("/throttled"))
            durations.append(time.monotonic() - started)
        log = server.log()
    statuses = _statuses(responses)
    if mode == "open":
        assert statuses == {200: 20}
    else:
        assert statuses == {429: 20}
        assert all(int(r.headers["Retry-After"]) >= 1 for r in responses)
    assert max(durations) <= timeout + 0.1, durations
    assert "Traceback" not in log
    assert log.count("is unavailable") == 1, log  # logged once per outage, not per request


def test_twice_the_pool_size_of_concurrent_requests_never_errors(
    tmp_path: Path, clean_redis: str
) -> None:
    env = {
        "RELIABILITY_THROTTLE_STORE": clean_redis,
        "RELIABILITY_RATE": "100000/min",
        "RELIABILITY_POOL": "4",
    }
    with serve(tmp_path, env, migrate=False) as server:
        for _ in range(5):
            responses = asyncio.run(_burst(server.url, 8))
            assert _statuses(responses) == {200: 8}
        responses = asyncio.run(_burst(server.url, 200))
        log = server.log()
    assert set(_statuses(responses)) <= {200, 429}
    assert "MaxConnectionsError" not in log
    assert "Traceback" not in log


def test_retry_after_is_the_ceiling_of_the_wait_and_waiting_that_long_admits(
    tmp_path: Path, clean_redis: str
) -> None:
    env = {"RELIABILITY_THROTTLE_STORE": clean_redis, "RELIABILITY_RATE": "2/s"}
    with (
        serve(tmp_path, env, migrate=False) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        assert [client.get("/throttled").status_code for _ in range(2)] == [200, 200]
        denied = client.get("/throttled")
        assert denied.status_code == 429
        retry_after = int(denied.headers["Retry-After"])
        detail = denied.json()["detail"]
        assert f"Expected available in {retry_after} second" in detail
        assert retry_after == 1  # ceil of a wait in (0, 1] for a 1-second window
        time.sleep(retry_after)
        assert client.get("/throttled").status_code == 200


def test_after_a_rate_decrease_every_429_still_carries_retry_after(
    tmp_path: Path, clean_redis: str
) -> None:
    env = {"RELIABILITY_THROTTLE_STORE": clean_redis, "RELIABILITY_RATE": "5/min"}
    with (
        serve(tmp_path, env, migrate=False) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        assert _statuses([client.get("/throttled") for _ in range(5)]) == {200: 5}
    env["RELIABILITY_RATE"] = "2/min"  # redeployed with a lower rate: history is now too long
    with (
        serve(tmp_path, env, migrate=False) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        denied = [client.get("/throttled") for _ in range(3)]
    assert _statuses(denied) == {429: 3}
    for response in denied:
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        assert math.ceil(float(response.headers["Retry-After"])) == int(
            response.headers["Retry-After"]
        )


def test_app_servers_with_skewed_clocks_share_one_window(tmp_path: Path, clean_redis: str) -> None:
    env = {"RELIABILITY_THROTTLE_STORE": clean_redis, "RELIABILITY_RATE": "10/min"}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        serve(tmp_path / "a", env, migrate=False) as on_time,
        serve(tmp_path / "b", {**env, "RELIABILITY_CLOCK_SKEW": "30"}, migrate=False) as ahead,
    ):
        statuses: Counter[int] = Counter()
        with httpx.Client(timeout=10) as client:
            for i in range(40):
                server: Server = on_time if i % 2 else ahead
                statuses[client.get(server.url + "/throttled").status_code] += 1
    assert statuses == {200: 10, 429: 30}


def test_every_key_has_a_ttl_after_a_ten_thousand_ident_fuzz(
    tmp_path: Path, clean_redis: str
) -> None:
    import random

    # An hourly window: no key may expire while the fuzz runs, so every one is accounted for.
    env = {"RELIABILITY_THROTTLE_STORE": clean_redis, "RELIABILITY_RATE": "100/hour"}

    async def fuzz(url: str) -> Counter[int]:
        # No keep-alive: a connection the server closes as idle while the client reuses it is a
        # transport error that has nothing to do with throttle keys.
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
            sem = asyncio.Semaphore(64)

            async def one() -> int:
                xff = ".".join(str(random.randint(0, 255)) for _ in range(4))
                async with sem:
                    response = await client.get("/per-client", headers={"X-Forwarded-For": xff})
                    return response.status_code

            return Counter(await asyncio.gather(*(one() for _ in range(10_000))))

    with serve(tmp_path, env, migrate=False, uvicorn_args=("--no-proxy-headers",)) as server:
        statuses = asyncio.run(fuzz(server.url))
    assert set(statuses) <= {200, 429}
    assert statuses[200] >= 9_000
    client = redis.Redis.from_url(clean_redis)
    keys = list(client.scan_iter(count=1000))
    assert len(keys) >= 9_000  # one key per distinct ident (birthday collisions aside)
    assert all(0 < client.ttl(key) <= 3600 for key in keys)
    sample = keys[:200]
    per_key = sum(client.memory_usage(key) or 0 for key in sample) / len(sample)
    print(f"\nthrottle key memory: {per_key:.0f} bytes per key holding one timestamp")
    assert per_key <= 256
    client.close()
