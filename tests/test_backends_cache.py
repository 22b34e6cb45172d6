"""
The Django cache store: DRF's own storage format, so DRF's classes and daf_drf's classes, and
DRF views and daf_drf views, share counters, and `cache.clear()` resets throttles.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.test import override_settings
from rest_framework import throttling as drf_throttling
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from daf_drf import throttling
from daf_drf.backends import StoreUnavailable
from daf_drf.backends.cache import CacheStore

THREADS: list[int] = []


class RecordingLocMem(LocMemCache):
    def get(self, *args: Any, **kwargs: Any) -> Any:
        THREADS.append(threading.get_ident())
        return super().get(*args, **kwargs)


class RecordingFileCache(FileBasedCache):
    def get(self, *args: Any, **kwargs: Any) -> Any:
        THREADS.append(threading.get_ident())
        return super().get(*args, **kwargs)


class DafThrottle(throttling.AnonRateThrottle):
    rate = "3/min"

    def timer(self) -> float:  # type: ignore[override]
        return 100.0


class DrfThrottle(drf_throttling.AnonRateThrottle):
    rate = "3/min"

    def timer(self) -> float:  # type: ignore[override]
        return 100.0


def anon_request() -> Request:
    from django.contrib.auth.models import AnonymousUser

    request = Request(APIRequestFactory().get("/", REMOTE_ADDR="9.9.9.9"))
    request.user = AnonymousUser()
    return request


@pytest.fixture(autouse=True)
def _clear_caches() -> None:
    for each in caches.all():
        each.clear()
    THREADS.clear()


def test_history_is_stored_exactly_as_drf_stores_it() -> None:
    assert DafThrottle().allow_request(anon_request(), None)
    assert cache.get("throttle_anon_9.9.9.9") == [100.0]


def test_drfs_own_class_and_daf_drfs_class_share_one_limit() -> None:
    results = [
        DrfThrottle().allow_request(anon_request(), None),
        DafThrottle().allow_request(anon_request(), None),
        DrfThrottle().allow_request(anon_request(), None),
        DafThrottle().allow_request(anon_request(), None),
        DrfThrottle().allow_request(anon_request(), None),
    ]
    assert results == [True, True, True, False, False]


def test_cache_clear_resets_throttles() -> None:
    for _ in range(3):
        DafThrottle().allow_request(anon_request(), None)
    cache.clear()
    assert DafThrottle().allow_request(anon_request(), None)


def test_cache_alias_store_uses_that_cache() -> None:
    caches_setting = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttles": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttles",
        },
    }
    with override_settings(CACHES=caches_setting, DAF_DRF={"THROTTLE_STORE": "cache://throttles"}):
        DafThrottle().allow_request(anon_request(), None)
        assert caches["throttles"].get("throttle_anon_9.9.9.9") == [100.0]
        assert cache.get("throttle_anon_9.9.9.9") is None


def test_a_class_cache_attribute_is_honoured() -> None:
    own = LocMemCache("own", {})

    class OwnCacheThrottle(DafThrottle):
        pass

    OwnCacheThrottle.cache = own  # type: ignore[assignment]
    OwnCacheThrottle().allow_request(anon_request(), None)
    assert own.get("throttle_anon_9.9.9.9") == [100.0]
    assert cache.get("throttle_anon_9.9.9.9") is None


def check_on_loop() -> int:
    async def main() -> int:
        assert await DafThrottle().aallow_request(anon_request(), None)
        return threading.get_ident()

    return asyncio.run(main())


def test_an_in_process_cache_is_called_inline_on_the_loop() -> None:
    setting = {"default": {"BACKEND": "tests.test_backends_cache.RecordingLocMem"}}
    with override_settings(CACHES=setting):
        loop_thread = check_on_loop()
    assert [loop_thread] == THREADS


def test_a_network_or_disk_cache_is_called_in_one_thread_hop(tmp_path: Any) -> None:
    setting = {
        "default": {
            "BACKEND": "tests.test_backends_cache.RecordingFileCache",
            "LOCATION": str(tmp_path),
        }
    }
    with override_settings(CACHES=setting):
        loop_thread = check_on_loop()
        assert caches["default"].get("throttle_anon_9.9.9.9") == [100.0]
    assert len(THREADS) == 2  # the check's get, then this test's own get
    assert THREADS[0] != loop_thread


def test_the_store_reports_a_failing_cache_as_unavailable() -> None:
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=dead), pytest.raises(StoreUnavailable):
        CacheStore(None).hit("k", 3, 60, 1.0)


def test_the_store_answers_like_drf() -> None:
    store = CacheStore(None)
    decisions = [store.hit("k", 2, 60, t) for t in (0.0, 1.0, 2.0, 60.0)]
    assert [d.allowed for d in decisions] == [True, True, False, True]
    assert cache.get("k") == [60.0, 1.0]


def test_throttle_success_decides_what_is_recorded_as_on_drf() -> None:
    # DRF's storage keeps DRF's hooks: the history is written by `throttle_success`, so an
    # override that records nothing (e.g. to count only failed logins) is honoured.
    class CountsNothing(DafThrottle):
        def throttle_success(self) -> bool:
            return True

    class DrfCountsNothing(DrfThrottle):
        def throttle_success(self) -> bool:
            return True

    async def on_loop() -> list[bool]:
        return [await CountsNothing().aallow_request(anon_request(), None) for _ in range(4)]

    drf = [DrfCountsNothing().allow_request(anon_request(), None) for _ in range(4)]
    daf = [CountsNothing().allow_request(anon_request(), None) for _ in range(4)]
    assert drf == daf == asyncio.run(on_loop()) == [True] * 4
    assert cache.get("throttle_anon_9.9.9.9") is None
