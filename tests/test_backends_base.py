"""The `Store` contract: what every store implements, and what the base class gives it."""

from __future__ import annotations

import asyncio

import pytest

from daf_drf.backends import CacheStore, Decision, MemoryStore, Store, StoreUnavailable, get_store
from daf_drf.backends.redis import RedisStore


class LoggingStore(Store):
    """Only `hit` and `ahit`: admits every key but `down`, which is unavailable."""

    name = "logging"

    def __init__(self) -> None:
        self.asked: list[str] = []

    def hit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        if key == "down":
            raise StoreUnavailable("down")
        self.asked.append(key)
        return Decision(allowed=True, now=now or 0.0, count=1, oldest=now, newest=now)

    async def ahit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        await asyncio.sleep(0)  # a real store awaits its I/O: the order must survive that
        return self.hit(key, num_requests, duration, now)


def test_a_store_without_hit_and_ahit_cannot_be_created() -> None:
    class OnlySync(Store):
        def hit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
            raise NotImplementedError

    with pytest.raises(TypeError, match="ahit"):
        OnlySync()  # type: ignore[abstract]


def test_the_default_ahit_many_asks_ahit_once_per_check_in_order() -> None:
    store = LoggingStore()
    checks = [("a", 1, 60, 1.0), ("b", 1, 60, 2.0), ("c", 1, 60, 3.0)]
    decisions = asyncio.run(store.ahit_many(checks))
    assert store.asked == ["a", "b", "c"]
    assert [d.now for d in decisions] == [1.0, 2.0, 3.0]


def test_the_default_ahit_many_fails_the_whole_batch_when_one_check_cannot_be_made() -> None:
    store = LoggingStore()
    with pytest.raises(StoreUnavailable):
        asyncio.run(store.ahit_many([("a", 1, 60, 1.0), ("down", 1, 60, 1.0), ("c", 1, 60, 1.0)]))
    assert store.asked == ["a"]  # in order, and nothing after the failure


def test_every_built_in_store_implements_the_contract() -> None:
    stores = [get_store(None), get_store("cache://default"), get_store("memory://")]
    stores.append(RedisStore("redis://127.0.0.1:1/0"))  # not connected until a check
    assert [type(store) for store in stores] == [CacheStore, CacheStore, MemoryStore, RedisStore]
    assert all(isinstance(store, Store) for store in stores)


def test_only_redis_uses_its_own_clock() -> None:
    # `now=None` means the store's clock: the throttle passes its timer to the others.
    assert RedisStore.has_clock
    assert not CacheStore.has_clock
    assert not MemoryStore.has_clock
