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

from asgiref.sync import sync_to_async
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches
from django.core.cache import cache as default_cache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

from daf_drf.backends.base import Decision, OutageLog, Store, StoreUnavailable, _history_decision

__all__ = ["CacheStore", "is_in_process"]


def is_in_process(cache: BaseCache) -> bool:
    """Whether `cache` lives in this process, so that calling it on the loop cannot block."""
    if cache is default_cache:  # DRF's default: a proxy to this thread's default cache
        cache = caches[DEFAULT_CACHE_ALIAS]
    return isinstance(cache, LocMemCache | DummyCache)


class CacheStore(Store):
    """
    A Django cache holding DRF's throttle history lists.

    `alias=None` is the default store: each throttle uses its own `cache` attribute (DRF's
    `django.core.cache.cache` unless the class sets another), exactly like DRF. With an
    alias, throttles that keep DRF's default `cache` use `caches[alias]` instead.

    DRF's algorithm is here once, in its two steps: `read` (the history under the key, trimmed
    to the window) and `record` (the request prepended, the list stored for `duration`).
    daf_drf's throttles call them from DRF's own hooks (`allow_request`, then
    `throttle_success`), so a subclass's hooks behave as on DRF; `hit` chains them for
    callers of the plain `Store` contract.

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

    def read(self, cache: BaseCache, key: str, now: float, duration: int) -> list[float]:
        """DRF's read: the history under `key`, newest first, without entries older than
        `duration` seconds before `now`. Raises `StoreUnavailable` if the cache fails."""
        try:
            history: list[float] = cache.get(key, [])
        except Exception as exc:  # any failure of the cache backend is an outage
            raise self._unavailable(exc) from exc
        while history and history[-1] <= now - duration:
            history.pop()
        return history

    def record(
        self, cache: BaseCache, key: str, history: list[float], now: float, duration: int
    ) -> None:
        """DRF's `throttle_success`: `now` prepended to `history`, stored for `duration`."""
        history.insert(0, now)
        try:
            cache.set(key, history, duration)
        except Exception as exc:  # any failure of the cache backend is an outage
            raise self._unavailable(exc) from exc
        self.outage.succeeded()

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        self.outage.failed(exc)
        return StoreUnavailable(str(exc) or type(exc).__name__)

    def hit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        cache = self.cache_for()
        if now is None:
            now = time.time()
        history = self.read(cache, key, now, duration)
        allowed = len(history) < num_requests
        if allowed:
            self.record(cache, key, history, now, duration)
        return _history_decision(allowed, now, history)

    async def ahit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        if is_in_process(self.cache_for()):
            return self.hit(key, num_requests, duration, now)
        return await sync_to_async(self.hit)(key, num_requests, duration, now)

    def __repr__(self) -> str:
        return f"<CacheStore {self.name}>"
