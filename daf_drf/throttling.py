"""
Throttles that count the same requests whether a DRF view or a daf_drf view serves them.

Set them once, for every view, still-DRF and migrated alike:

    REST_FRAMEWORK = {
        "DEFAULT_THROTTLE_CLASSES": ["daf_drf.throttling.AnonRateThrottle",
                                     "daf_drf.throttling.UserRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {"anon": "100/hour", "user": "1000/day"},
    }
    DAF_DRF = {"THROTTLE_STORE": "redis://127.0.0.1:6379/0"}   # unset: the Django cache, as DRF

Each class is a subclass of DRF's class of the same name and keeps its attributes and hooks
(`scope`, `rate`, `THROTTLE_RATES`, `cache_format`, `cache`, `timer`, `get_cache_key`,
`get_ident`, `get_rate`, `parse_rate`, `throttle_success`, `throttle_failure`, `wait`). DRF
views call `allow_request`; daf_drf views call `aallow_request`; both read and write the same
keys in the same store.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.core.cache import BaseCache
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework import throttling as drf_throttling

from daf_drf.backends import CacheStore, Decision, History, Store, StoreUnavailable, get_store
from daf_drf.backends.base import Check
from daf_drf.backends.cache import is_in_process
from daf_drf.hooks import call_hook, has_inline_safe_mark, inline_safe
from daf_drf.settings import daf_settings
from daf_drf.throttling_headers import RateLimitHeadersMiddleware, record_ratelimit
from daf_drf.throttling_rates import parse_rate, rate_problem

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

__all__ = [
    "AnonRateThrottle",
    "BaseThrottle",
    "RateLimitHeadersMiddleware",
    "ScopedRateThrottle",
    "SimpleRateThrottle",
    "UserRateThrottle",
    "aallow_together",
    "parse_rate",
    "rate_problem",
]


class BaseThrottle(drf_throttling.BaseThrottle):
    """
    DRF's `BaseThrottle` with an async sibling of `allow_request`.

    Override `allow_request` (sync, or `async def`) as with DRF; daf_drf views call it through
    `aallow_request`: awaited if async, otherwise in one thread hop (or inline, if marked
    `inline_safe`).
    """

    async def aallow_request(self, request: Request, view: APIView) -> bool:
        return bool(await call_hook(self, self.allow_request, request, view))


class SimpleRateThrottle(drf_throttling.SimpleRateThrottle, BaseThrottle):
    """
    DRF's sliding-window throttle on a pluggable store, for sync and async views alike.

    Semantics are DRF's: at most `num_requests` per `duration` seconds per `get_cache_key()`,
    a denied request is not recorded, and `wait()` is DRF's formula. The store comes from the
    class attribute `store` (a URL) or else `DAF_DRF["THROTTLE_STORE"]`, or from `get_store()`
    overridden to return your own `daf_drf.backends.Store`; see `daf_drf.backends` for the
    guarantee each store gives. When the store is down, `THROTTLE_FAILURE` decides:
    `"open"` admits, `"closed"` denies with `wait() == THROTTLE_FAILURE_RETRY_AFTER`.

    Time: `self.timer()` (DRF's `time.time` by default). On Redis, the server clock is used
    instead, so app servers with skewed clocks share one window, unless `timer` is overridden
    (tests injecting time), in which case the injected time is used everywhere.

    Usage:

        class BurstRateThrottle(SimpleRateThrottle):
            scope = "burst"
            store = "redis://127.0.0.1:6379/0"     # optional; default: THROTTLE_STORE

            @inline_safe                           # pure: computed on the loop, no thread hop
            def get_cache_key(self, request, view):
                return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
    """

    store: str | None = None
    num_requests: int
    duration: int
    _decision: Decision | None = None
    _cache_store: CacheStore | None = None
    _store: Store
    _store_down = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # The built-in `get_cache_key`s are pure only with DRF's `get_ident`. A subclass that
        # overrides `get_ident` (a GeoIP file, a lookup) must not inherit the "pure" mark, or
        # its I/O would run on the loop: give it an unmarked `get_cache_key`, which the hook
        # rule runs in a thread hop, unless its `get_ident` is itself marked `inline_safe`.
        key, ident = cls.get_cache_key, cls.get_ident
        if (
            "get_cache_key" not in vars(cls)
            and has_inline_safe_mark(key)
            and ident is not drf_throttling.BaseThrottle.get_ident
            and not has_inline_safe_mark(ident)
        ):

            def get_cache_key(
                self: drf_throttling.SimpleRateThrottle, request: Request, view: APIView
            ) -> str | None:
                return key(self, request, view)

            cls.get_cache_key = get_cache_key  # type: ignore[method-assign]

    def parse_rate(self, rate: str | None) -> tuple[int | None, int | None]:
        return parse_rate(rate, getattr(self, "scope", None))

    def get_store(self) -> Store:
        """
        The store this throttle checks, from `self.store` or `THROTTLE_STORE`.

        Override it to return your own `daf_drf.backends.Store` (one shared instance).
        """
        store = _resolved_stores.get(self.store)
        if store is None:
            store = _resolved_stores[self.store] = _resolve_store(self.store)
        return store

    def _now(self, store: Store) -> float | None:
        injected = "timer" in vars(self) or type(self).timer is not time.time
        if store.has_clock and not injected:
            return None
        return float(self.timer())

    # --- sync: DRF views ----------------------------------------------------------------

    def allow_request(self, request: Request, view: APIView) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        return self._checked(request, self._check(self.key, self.get_store()))

    def _check(self, key: str, store: Store, cache: BaseCache | None = None) -> bool:
        # `cache`: the cache `store.cache_for(self.cache)` gives in this thread, if known.
        self._decision, self._store_down = None, False
        if isinstance(store, CacheStore):
            return self._cache_check(key, store, cache)
        try:
            decision = store.hit(key, self.num_requests, self.duration, self._now(store))
        except StoreUnavailable:
            return self._store_failed()
        self._apply(decision)
        return bool(self.throttle_success() if decision.allowed else self.throttle_failure())

    def _keyed_check(self, request: Request, view: APIView, store: Store) -> bool:
        self.key = self.get_cache_key(request, view)
        return True if self.key is None else self._check(self.key, store)

    def _cache_check(self, key: str, store: CacheStore, cache: BaseCache | None = None) -> bool:
        # DRF's `allow_request` on DRF's storage, with DRF's hooks: the store reads (and
        # `throttle_success` records) the history; a subclass's hooks decide as on DRF.
        self.cache = cache if cache is not None else store.cache_for(self.cache)
        self._cache_store = store
        self.now = self.timer()
        try:
            self.history = store.read(self.cache, key, self.now, self.duration)
        except StoreUnavailable:
            return self._store_failed()
        if len(self.history) >= self.num_requests:
            return bool(self.throttle_failure())
        return bool(self.throttle_success())

    @inline_safe
    def throttle_success(self) -> bool:
        if self._decision is not None:
            return True  # the store already recorded it, atomically
        store = self._cache_store
        if store is None or self.key is None:  # called outside a check: DRF's own
            return bool(super().throttle_success())
        try:
            store.record(self.cache, self.key, self.history, self.now, self.duration)
        except StoreUnavailable:
            return self._store_failed()
        return True

    @inline_safe
    def throttle_failure(self) -> bool:
        return False

    def _apply(self, decision: Decision) -> None:
        self._decision = decision
        self.now = decision.now
        self.history = History(decision)  # type: ignore[assignment]

    def _store_failed(self) -> bool:
        self._store_down = True
        return bool(daf_settings.THROTTLE_FAILURE != "closed")

    def _checked(self, request: Request, allowed: bool) -> bool:
        if not self._store_down and daf_settings.THROTTLE_RATELIMIT_HEADERS:
            record_ratelimit(request, self)
        return allowed

    def wait(self) -> float | None:
        if self._store_down:
            return float(daf_settings.THROTTLE_FAILURE_RETRY_AFTER)
        wait = super().wait()
        decision = self._decision
        if wait is None and decision is not None and decision.admit_at is not None:
            # DRF has no wait when a rate decrease left more history than the new rate allows
            # (#1438), so its 429 carries no Retry-After. daf_drf's stores know exactly when
            # the next request will be admitted: when the num_requests-th newest entry expires.
            # (The cache store keeps DRF's answer: it is DRF's storage, compared with DRF.)
            return max(decision.admit_at + self.duration - decision.now, 0.001)
        return wait

    # --- async: daf_drf views -----------------------------------------------------------

    def _begin(self, view: APIView) -> bool:
        """Prepare the rate for this request; False means "don't throttle"."""
        return self.rate is not None

    async def aallow_request(self, request: Request, view: APIView) -> bool:
        if type(self).allow_request not in _OWN_ALLOW_REQUEST:
            # A project's own `allow_request` (sync or async) decides, by the hook rule.
            return bool(await call_hook(self, self.allow_request, request, view))
        prepared = await self._aprepare(request, view)
        if isinstance(prepared, bool):
            return prepared
        decision: Decision | None
        try:
            decision = await self._store.ahit(*prepared)
        except StoreUnavailable:
            decision = None
        return await self._afinish(request, decision)

    async def _aprepare(self, request: Request, view: APIView) -> bool | Check:
        """Everything before the store's check: a bool answers, a `Check` asks the store."""
        if not self._begin(view):
            return True
        store = self._store = self.get_store()
        cache = None
        if isinstance(store, CacheStore):
            cache = store.cache_for(self.cache)
            if not is_in_process(cache):
                # A network cache blocks: key and check together in one thread hop (which
                # looks its cache up again: Django's caches are per thread).
                allowed = await sync_to_async(self._keyed_check)(request, view, store)
                return allowed if self.key is None else self._checked(request, allowed)
        key_hook = self.get_cache_key
        if has_inline_safe_mark(key_hook):  # the built-in ones: no coroutine
            self.key = key_hook(request, view)
        else:
            self.key = await call_hook(self, key_hook, request, view)
        if self.key is None:
            return True
        if cache is not None:
            return self._checked(request, self._check(self.key, store, cache))  # inline
        self._decision, self._store_down = None, False
        return (self.key, self.num_requests, self.duration, self._now(store))

    async def _afinish(self, request: Request, decision: Decision | None) -> bool:
        """Apply the store's answer (`None`: the store was unavailable) and call the hooks."""
        if decision is None:
            return self._checked(request, self._store_failed())
        self._apply(decision)
        hook = self.throttle_success if decision.allowed else self.throttle_failure
        if has_inline_safe_mark(hook):  # the built-in ones: no coroutine
            return self._checked(request, bool(hook()))
        return self._checked(request, bool(await call_hook(self, hook)))


async def aallow_together(
    throttles: Sequence[drf_throttling.BaseThrottle], request: Request, view: APIView
) -> list[bool] | None:
    """
    `aallow_request` of every throttle, in one call to the store; `None` if not possible.

    Possible when every throttle is daf_drf's own (`allow_request` and `aallow_request` not
    overridden) and they share a store. The keys are computed in order, then checked in order
    by the store's `ahit_many` (on Redis: atomically together, in one round trip), then each
    throttle's hooks run in order: the answers a sequence of `aallow_request` calls would give.
    """
    store: Store | None = None
    own: list[SimpleRateThrottle] = []
    for throttle in throttles:
        if not isinstance(throttle, SimpleRateThrottle):
            return None
        kind = type(throttle)
        if (
            kind.aallow_request is not SimpleRateThrottle.aallow_request
            or kind.allow_request not in _OWN_ALLOW_REQUEST
        ):
            return None
        mine = throttle.get_store()
        if store is not None and mine is not store:
            return None
        store = mine
        own.append(throttle)
    if store is None:
        return []
    prepared = [await t._aprepare(request, view) for t in own]
    asking = [(t, p) for t, p in zip(own, prepared, strict=True) if not isinstance(p, bool)]
    if not asking:
        return [p is True for p in prepared]
    decisions: Sequence[Decision | None]
    try:
        decisions = await store.ahit_many([check for _, check in asking])
    except StoreUnavailable:
        decisions = [None] * len(asking)
    done = [await t._afinish(request, d) for (t, _), d in zip(asking, decisions, strict=True)]
    finished = iter(done)
    return [p if isinstance(p, bool) else next(finished) for p in prepared]


# `get_store()` runs on every check: each `store` attribute (`None` for `THROTTLE_STORE`) is
# resolved once, then found with one dict lookup until `DAF_DRF` changes.
_resolved_stores: dict[str | None, Store] = {}


def _resolve_store(url: str | None) -> Store:
    return get_store(
        url if url is not None else daf_settings.THROTTLE_STORE,
        pool_size=daf_settings.THROTTLE_REDIS_POOL_SIZE,
        timeout=daf_settings.THROTTLE_TIMEOUT,
        key_prefix=daf_settings.THROTTLE_KEY_PREFIX,
    )


@receiver(setting_changed)
def _forget_resolved_stores(*, setting: str, **kwargs: object) -> None:
    if setting == "DAF_DRF":
        _resolved_stores.clear()


class AnonRateThrottle(drf_throttling.AnonRateThrottle, SimpleRateThrottle):
    """DRF's `AnonRateThrottle` (scope `anon`, keyed by client address) on daf_drf's stores."""

    @inline_safe
    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return super().get_cache_key(request, view)


class UserRateThrottle(drf_throttling.UserRateThrottle, SimpleRateThrottle):
    """DRF's `UserRateThrottle` (scope `user`, keyed by user pk or address) on daf_drf's stores."""

    @inline_safe
    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return super().get_cache_key(request, view)


class ScopedRateThrottle(drf_throttling.ScopedRateThrottle, SimpleRateThrottle):
    """
    DRF's `ScopedRateThrottle` on daf_drf's stores: the rate comes from `view.throttle_scope`
    (also set by `@api_view` from the function's `throttle_scope`); views without one are not
    throttled.
    """

    def _begin(self, view: APIView) -> bool:
        # DRF's `ScopedRateThrottle.allow_request` preamble, for the async path.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return False
        self.rate = self.get_rate()
        num_requests, duration = self.parse_rate(self.rate)
        if num_requests is None or duration is None:
            return False  # a `None` rate: no limit, as DRF's `allow_request` answers
        self.num_requests, self.duration = num_requests, duration
        return True

    @inline_safe
    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return super().get_cache_key(request, view)


_OWN_ALLOW_REQUEST = frozenset(
    {SimpleRateThrottle.allow_request, drf_throttling.ScopedRateThrottle.allow_request}
)
