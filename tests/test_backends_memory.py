"""The in-process store: DRF's sliding log, exact within one process, bounded."""

from __future__ import annotations

import asyncio
import threading

import pytest

from daf_drf.backends import get_store
from daf_drf.backends.memory import MemoryStore


def test_admits_num_requests_per_window_then_denies() -> None:
    store = MemoryStore()
    results = [store.hit("k", 3, 60, 100.0).allowed for _ in range(4)]
    assert results == [True, True, True, False]


def test_denied_request_is_not_recorded() -> None:
    store = MemoryStore()
    for _ in range(3):
        store.hit("k", 3, 60, 100.0)
    denied = store.hit("k", 3, 60, 150.0)
    assert (denied.allowed, denied.count, denied.oldest) == (False, 3, 100.0)


def test_entries_at_the_window_edge_are_dropped_as_in_drf() -> None:
    store = MemoryStore()
    store.hit("k", 1, 60, 0.0)
    assert not store.hit("k", 1, 60, 59.9).allowed
    assert store.hit("k", 1, 60, 60.0).allowed


def test_threads_sharing_a_key_are_admitted_exactly_the_limit() -> None:
    store = MemoryStore()
    barrier = threading.Barrier(20)
    admitted: list[bool] = []

    def caller() -> None:
        barrier.wait()
        admitted.extend(store.hit("k", 100, 60, 1.0).allowed for _ in range(50))

    threads = [threading.Thread(target=caller) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(True) == 100


def test_async_callers_are_admitted_exactly_the_limit() -> None:
    store = MemoryStore()

    async def main() -> list[bool]:
        decisions = await asyncio.gather(*(store.ahit("k", 100, 60, 1.0) for _ in range(1000)))
        return [d.allowed for d in decisions]

    assert asyncio.run(main()).count(True) == 100


def test_keys_are_bounded_least_recently_admitted_first() -> None:
    store = MemoryStore(max_keys=2)
    store.hit("a", 1, 60, 0.0)
    store.hit("b", 1, 60, 0.0)
    store.hit("c", 1, 60, 0.0)
    assert len(store) == 2
    assert store.hit("a", 1, 60, 1.0).allowed  # "a" was forgotten, so it starts afresh
    assert not store.hit("c", 1, 60, 1.0).allowed


def test_history_never_exceeds_num_requests() -> None:
    store = MemoryStore()
    for _ in range(500):
        store.hit("k", 10, 60, 1.0)
    assert len(store._data["k"][0]) == 10


def test_an_emptied_key_is_forgotten() -> None:
    store = MemoryStore()
    store.hit("k", 0, 60, 1.0)
    store.hit("j", 1, 60, 1.0)
    store.hit("j", 0, 60, 100.0)  # rate lowered to zero; the old entry expired
    assert len(store) == 0


def test_url_options_set_the_bound() -> None:
    assert get_store("memory://?max_keys=5").max_keys == 5
    assert get_store("memory://") is get_store("memory://")


def test_max_keys_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_keys"):
        MemoryStore(max_keys=0)


def test_a_throttle_class_can_pick_its_own_store() -> None:
    from django.core.cache import cache
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from daf_drf.throttling import SimpleRateThrottle

    class OwnStoreThrottle(SimpleRateThrottle):
        rate = "1/min"
        store = "memory://?max_keys=7"

        def get_cache_key(self, request: object, view: object) -> str:
            return "own-store"

    request = Request(APIRequestFactory().get("/"))
    own = get_store("memory://?max_keys=7")
    own.clear()
    assert OwnStoreThrottle().allow_request(request, None)
    assert not OwnStoreThrottle().allow_request(request, None)
    assert "own-store" in own._data
    assert cache.get("own-store") is None
