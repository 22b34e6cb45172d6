"""
`cache://<alias>` and the default store: a Django cache, stored exactly as DRF stores it.

The key is the throttle's `cache_key` (DRF's `cache_format`, no prefix), the value DRF's list
of timestamps, newest first, written with `timeout=duration`. DRF views and daf_drf views
therefore share counters, `cache.clear()` resets throttles, and DRF's own throttling tests
pass. It inherits DRF's limits too: a read-modify-write of the whole list, so concurrent
requests on a shared cache can all be admitted (DRF's documented race). Use `redis://` when
the limit must hold.
"""

from __future__ import annotations

import time
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import BaseCache, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.utils.connection import ConnectionProxy

from daf_drf.backends.base import Decision, OutageLog, StoreUnavailable, _history_decision

__all__ = ["CacheStore", "drf_check", "is_in_process"]


def is_in_process(cache: Any) -> bool:
    """Whether `cache` lives in this process, so that calling it on the loop cannot block."""
    if isinstance(cache, ConnectionProxy):  # `django.core.cache.cache`, DRF's default
        cache = cache._connections[cache._alias]
    return isinstance(cache, LocMemCache | DummyCache)


def drf_check(
    cache: BaseCache, key: str, num_requests: int, duration: int, now: float
) -> tuple[bool, list[float]]:
    """DRF's `allow_request` body on `cache`: returns (allowed, history after the check)."""
    history: list[float] = cache.get(key, [])
    while history and history[-1] <= now - duration:
        history.pop()
    if len(history) >= num_requests:
        return False, history
    history.insert(0, now)
    cache.set(key, history, duration)
    return True, history


class CacheStore:
    """
    A Django cache holding DRF's throttle history lists.

    `alias=None` is the default store: each throttle uses its own `cache` attribute (DRF's
    `django.core.cache.cache` unless the class sets another), exactly like DRF. With an
    alias, throttles that keep DRF's default `cache` use `caches[alias]` instead.

    Guarantees: DRF's, no more. Not atomic on a shared cache (memcached, Redis, database);
    exact only within one process on LocMemCache. In-process caches are called inline on the
    event loop; other caches are called in one thread hop per check.

    Usage:

        DAF_DRF = {"THROTTLE_STORE": "cache://throttles"}   # or leave THROTTLE_STORE unset
    """

    def __init__(self, alias: str | None = None) -> None:
        self.alias = alias
        self.name = f"cache://{alias}" if alias else "the Django cache"
        self.outage = OutageLog(self.name)

    def cache_for(self, throttle_cache: BaseCache | None = None) -> BaseCache:
        """The cache a throttle whose `cache` attribute is `throttle_cache` should use."""
        if self.alias is None:
            return throttle_cache if throttle_cache is not None else default_cache
        if throttle_cache is None or throttle_cache is default_cache:
            return caches[self.alias]
        return throttle_cache

    def hit(
        self,
        key: str,
        num_requests: int,
        duration: int,
        now: float | None,
        cache: BaseCache | None = None,
    ) -> Decision:
        if now is None:
            now = time.time()
        try:
            allowed, history = drf_check(self.cache_for(cache), key, num_requests, duration, now)
        except Exception as exc:  # any failure of the cache backend is an outage
            self.outage.failed(exc)
            raise StoreUnavailable(str(exc)) from exc
        self.outage.succeeded()
        return _history_decision(allowed, now, history)

    async def ahit(
        self,
        key: str,
        num_requests: int,
        duration: int,
        now: float | None,
        cache: BaseCache | None = None,
    ) -> Decision:
        if is_in_process(self.cache_for(cache)):
            return self.hit(key, num_requests, duration, now, cache)
        result: Decision = await sync_to_async(self.hit)(key, num_requests, duration, now, cache)
        return result

    def __repr__(self) -> str:
        return f"<CacheStore {self.name}>"
