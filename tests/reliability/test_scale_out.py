"""
Item 2: scale-out. A 3-master Redis Cluster stays exact and keeps each check in one slot; a
Sentinel failover follows the failure mode while the master is gone, and throttling recovers
on the promoted replica without a restart.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from daf_drf.backends import get_store
from daf_drf.hooks import inline_safe
from daf_drf.throttling import SimpleRateThrottle
from tests.reliability.topologies import Topology, cluster, current_master_port, sentinel


class KeyedThrottle(SimpleRateThrottle):
    rate = "100/min"
    scope = "scale"
    key = "one-key"

    @inline_safe
    def get_cache_key(self, request: Any, view: Any) -> str:
        return f"throttle_scale_{request.META['HTTP_X_CLIENT']}"


def _request(client: str) -> Request:
    return Request(APIRequestFactory().get("/", HTTP_X_CLIENT=client))


async def _burst(n: int, client: str = "one") -> Counter[bool]:
    barrier = asyncio.Barrier(n)

    async def one() -> bool:
        throttle = KeyedThrottle()
        request = _request(client)
        await barrier.wait()
        return await throttle.aallow_request(request, None)

    return Counter(await asyncio.gather(*(one() for _ in range(n))))


@pytest.fixture(scope="module")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    with cluster(Path(tmp_path_factory.mktemp("cluster"))) as topology:
        yield topology


def _use(settings: Any, url: str, failure: str = "closed", timeout: float = 5.0) -> None:
    settings.DAF_DRF = {
        "THROTTLE_STORE": url,
        "THROTTLE_FAILURE": failure,
        "THROTTLE_TIMEOUT": timeout,
    }


def test_a_cluster_admits_exactly_the_limit_under_1000_concurrent_checks(
    redis_cluster: Topology, settings: Any
) -> None:
    _use(settings, redis_cluster.url)
    for run in range(5):
        assert asyncio.run(_burst(1000, client=f"run{run}")) == {True: 100, False: 900}


def test_a_cluster_spreads_clients_over_masters_each_check_in_one_slot(
    redis_cluster: Topology, settings: Any
) -> None:
    _use(settings, redis_cluster.url)
    clients = [f"client{i}" for i in range(30)]
    for client in clients:
        assert asyncio.run(_burst(10, client)) == {True: 10}
    owners = Counter()
    for client in clients:
        key = f"daf_drf:throttle_scale_{client}"
        found = 0
        for name, port in redis_cluster.ports.items():
            with redis.Redis(port=port) as node:
                slot = node.cluster("keyslot", key)
                if node.cluster("countkeysinslot", slot) and node.exists(key):
                    found += 1
                    owners[name] += 1
                    assert node.ttl(key) > 0
        assert found == 1, key  # the check's only key lives on exactly one node
    assert len(owners) == 3  # and clients are spread over all three masters


def test_sync_and_async_callers_share_one_cluster_key(
    redis_cluster: Topology, settings: Any
) -> None:
    _use(settings, redis_cluster.url)
    sync_results = [KeyedThrottle().allow_request(_request("mixed"), None) for _ in range(60)]
    async_results = asyncio.run(_burst(200, "mixed"))
    assert sync_results.count(True) + async_results[True] == 100


@pytest.mark.parametrize("failure", ["open", "closed"])
def test_a_sentinel_failover_follows_the_failure_mode_then_recovers(
    tmp_path: Path, settings: Any, failure: str
) -> None:
    with sentinel(tmp_path) as topology:
        _use(settings, topology.url, failure=failure, timeout=0.3)
        assert asyncio.run(_burst(150, "before")) == {True: 100, False: 50}
        old_master = topology.ports["master"]
        topology.kill("master")
        during: Counter[bool] = Counter()
        started = time.monotonic()

        async def load_until_failover() -> None:
            # Keep checking (one loop, as a server would) until the Sentinel promotes.
            while current_master_port(topology) == old_master:
                assert time.monotonic() - started < 30, "no failover within 30 s"
                during.update(await _burst(20, "during"))
                await asyncio.sleep(0.05)

        asyncio.run(load_until_failover())
        # While the master was gone, every check followed the failure mode (no exception).
        assert sum(during.values()) >= 20
        if failure == "open":
            assert during[False] == 0 or during[True] > 0
        else:
            assert during[True] <= 100

        # Recovered on the promoted replica, with the same store object (no restart).
        deadline = time.monotonic() + 20
        while True:
            counts = asyncio.run(_burst(150, f"after-{time.monotonic()}"))
            if counts == {True: 100, False: 50} or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert counts == {True: 100, False: 50}
        get_store(topology.url, pool_size=50, timeout=0.3, key_prefix="daf_drf:").close()
