"""System checks for throttling: bad rates and store settings are reported at startup."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import checks
from django.test import override_settings
from django.urls import path
from rest_framework import views as drf_views
from rest_framework.throttling import BaseThrottle as DrfBaseThrottle

from daf_drf import views as daf_views
from daf_drf.throttling import AnonRateThrottle, BaseThrottle


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return [
            message.id
            for message in checks.run_checks()
            if message.id and message.id.startswith("daf_drf.")
        ]


def messages(**settings: Any) -> list[checks.CheckMessage]:
    with override_settings(**settings):
        return [m for m in checks.run_checks() if m.id and m.id.startswith("daf_drf.")]


@pytest.mark.parametrize("rate", ["10/month", "10/x", "-5/m", "ten/m", "10/", "3/ s", 10])
def test_a_rate_drf_would_crash_on_or_misread_is_an_error_naming_the_scope(rate: Any) -> None:
    found = messages(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"burst": rate, "ok": "5/min"}})
    assert [m.id for m in found] == ["daf_drf.E020"]
    assert "'burst'" in found[0].msg
    assert found[0].level == checks.ERROR


def test_month_is_explained_as_drfs_silent_per_minute() -> None:
    found = messages(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": {"monthly": "10/month"}})
    assert "10 per 60 s" in found[0].msg


def test_valid_and_none_rates_pass() -> None:
    rates = {"a": "3/s", "b": "10/min", "c": "5/hour", "d": "100/day", "e": None}
    assert ids(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": rates}) == []


class BadRateThrottle(AnonRateThrottle):
    rate = "10/fortnight"


def test_a_default_throttle_class_with_a_bad_rate_is_an_error() -> None:
    found = messages(
        REST_FRAMEWORK={
            "DEFAULT_THROTTLE_CLASSES": ["tests.test_throttling_checks.BadRateThrottle"],
            "DEFAULT_THROTTLE_RATES": {"anon": "5/min"},
        }
    )
    assert [m.id for m in found] == ["daf_drf.E023"]
    assert "BadRateThrottle" in found[0].msg


@pytest.mark.parametrize(
    "url",
    [
        "http://x",
        "memcached://x",
        "cache://",
        "memory://?max_keys=0",
        "redis+sentinel://host:26379",
        42,
        "redis://h/1?db=x",  # redis-py: "Invalid value for 'db'", on every connection
        "redis://h/0?sockettimeout=1",  # an option redis-py's connection does not take
        "redis://h/0?ssl_cert_reqs=none",  # a TLS option on a plain URL
    ],
)
def test_an_unknown_store_url_is_an_error(url: Any) -> None:
    assert ids(DAF_DRF={"THROTTLE_STORE": url}) == ["daf_drf.E021"]


@pytest.mark.parametrize(
    "url",
    [
        None,
        "memory://",
        "cache://default",
        "redis://h:6379/0",
        "rediss://h",
        "rediss://h/0?ssl_cert_reqs=none",
        "redis://h/0?socket_keepalive=true",
        "unix:///tmp/r.sock",
        "redis+sentinel://s:26379/main",
        "redis+cluster://n:6379",
    ],
)
def test_known_store_urls_pass(url: Any) -> None:
    assert ids(DAF_DRF={"THROTTLE_STORE": url}) == []


@pytest.mark.parametrize(
    "name", ["THROTTLE_TIMEOUT", "THROTTLE_FAILURE_RETRY_AFTER", "THROTTLE_REDIS_POOL_SIZE"]
)
@pytest.mark.parametrize("value", [0, -1, "5", None, True])
def test_numeric_settings_must_be_positive(name: str, value: Any) -> None:
    assert ids(DAF_DRF={name: value}) == ["daf_drf.E022"]


SHARED_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}
THROTTLED = {
    "DEFAULT_THROTTLE_CLASSES": ["daf_drf.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": "5/min"},
}


def test_throttles_on_a_shared_cache_warn_that_it_is_not_atomic() -> None:
    found = messages(CACHES=SHARED_CACHE, REST_FRAMEWORK=THROTTLED)
    assert [m.id for m in found] == ["daf_drf.W020"]
    assert "THROTTLE_STORE" in (found[0].hint or "")


def test_an_explicit_shared_cache_store_warns_too() -> None:
    found = ids(CACHES=SHARED_CACHE, DAF_DRF={"THROTTLE_STORE": "cache://default"})
    assert found == ["daf_drf.W020"]


def test_no_warning_for_an_in_process_cache_or_a_real_store() -> None:
    assert ids(REST_FRAMEWORK=THROTTLED) == []
    assert (
        ids(
            CACHES=SHARED_CACHE,
            REST_FRAMEWORK=THROTTLED,
            DAF_DRF={"THROTTLE_STORE": "redis://127.0.0.1:6379/0"},
        )
        == []
    )


def test_no_warning_without_throttles() -> None:
    assert ids(CACHES=SHARED_CACHE) == []


def test_rates_that_are_not_a_dict_are_an_error() -> None:
    assert ids(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": ["anon", "5/min"]}) == ["daf_drf.E020"]


# --- throttles of mounted views --------------------------------------------------------------


class AsyncOnlyThrottle(DrfBaseThrottle):
    async def allow_request(self, request: Any, view: Any) -> bool:  # type: ignore[override]
        return False


class ASiblingOnlyThrottle(BaseThrottle):
    async def aallow_request(self, request: Any, view: Any) -> bool:
        return False


class ViewBadRateThrottle(AnonRateThrottle):
    rate = "5/fortnight"


class DrfViewWithAsyncThrottle(drf_views.APIView):
    throttle_classes = [AsyncOnlyThrottle]


class DrfViewWithSiblingOnlyThrottle(drf_views.APIView):
    throttle_classes = [ASiblingOnlyThrottle]


class DafViewWithAsyncThrottle(daf_views.APIView):
    throttle_classes = [AsyncOnlyThrottle, ASiblingOnlyThrottle]


class DrfViewWithBadRate(drf_views.APIView):
    throttle_classes = [ViewBadRateThrottle]


urlpatterns = [
    path("drf-async/", DrfViewWithAsyncThrottle.as_view()),
    path("drf-sibling/", DrfViewWithSiblingOnlyThrottle.as_view()),
    path("daf-async/", DafViewWithAsyncThrottle.as_view()),
    path("drf-bad-rate/", DrfViewWithBadRate.as_view()),
]


def test_async_only_throttles_on_drf_views_are_errors_and_fine_on_daf_views() -> None:
    found = messages(ROOT_URLCONF=__name__)
    e024 = [m for m in found if m.id == "daf_drf.E024"]
    assert {m.obj for m in e024} == {DrfViewWithAsyncThrottle, DrfViewWithSiblingOnlyThrottle}
    assert "/drf-async/" in " ".join(m.msg for m in e024)


def test_a_mounted_views_throttle_with_a_bad_rate_is_an_error() -> None:
    found = messages(ROOT_URLCONF=__name__)
    e023 = [m for m in found if m.id == "daf_drf.E023"]
    assert len(e023) == 1
    assert "ViewBadRateThrottle" in e023[0].msg
