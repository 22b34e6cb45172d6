"""
daf_drf's throttles keep DRF's documented behaviour, on DRF views and daf_drf views, on every
store.

The behaviours are DRF's own throttling tests (tests/test_throttling.py in DRF's repository),
rewritten here: time is injected through `timer`, requests go through Django's async request
path. Each behaviour class is run six times: {default Django cache, memory://, redis://} x
{DRF sync view calling `allow_request`, daf_drf async view calling `aallow_request`}.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase, override_settings
from django.urls import path
from rest_framework import decorators as drf_decorators
from rest_framework import throttling as drf_throttling
from rest_framework import views as drf_views
from rest_framework.decorators import api_view as drf_api_view
from rest_framework.decorators import throttle_classes as drf_throttle_classes
from rest_framework.response import Response

from daf_drf import views as daf_views
from daf_drf.backends import Decision, MemoryStore, Store, get_store
from daf_drf.decorators import api_view as daf_api_view
from daf_drf.decorators import throttle_classes as daf_throttle_classes
from daf_drf.decorators import throttle_scope
from daf_drf.test import AsyncAPIClient
from daf_drf.throttling import (
    BaseThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

# --- throttles and views, as in DRF's tests ------------------------------------------------


class User3SecRateThrottle(UserRateThrottle):
    rate = "3/sec"
    scope = "seconds"


class User3MinRateThrottle(UserRateThrottle):
    rate = "3/min"
    scope = "minutes"


class User6MinRateThrottle(UserRateThrottle):
    rate = "6/min"
    scope = "minutes"


class NonTimeThrottle(BaseThrottle):
    def allow_request(self, request: Any, view: Any) -> bool:
        if not hasattr(self.__class__, "called"):
            self.__class__.called = True  # type: ignore[attr-defined]
            return True
        return False


class XYScopedRateThrottle(ScopedRateThrottle):
    TIMER_SECONDS = 0.0
    THROTTLE_RATES = {"x": "3/min", "y": "1/min", "test_limit": "1/day"}

    def timer(self) -> float:  # type: ignore[override]
        return self.TIMER_SECONDS


class OpenScopedRateThrottle(XYScopedRateThrottle):
    THROTTLE_RATES = {**XYScopedRateThrottle.THROTTLE_RATES, "open": None}


urlpatterns: list[Any] = []


def twins(name: str, throttles: tuple[type, ...], **attrs: Any) -> None:
    """Mount a DRF view and its daf_drf twin at /drf/<name>/ and /daf/<name>/."""

    def drf_get(self: Any, request: Any) -> Response:
        return Response("foo")

    async def daf_get(self: Any, request: Any) -> Response:
        return Response("foo")

    common = {"throttle_classes": throttles, **attrs}
    drf = type(f"Drf{name}", (drf_views.APIView,), {**common, "get": drf_get})
    daf = type(f"Daf{name}", (daf_views.APIView,), {**common, "get": daf_get})
    urlpatterns.append(path(f"drf/{name}/", drf.as_view()))
    urlpatterns.append(path(f"daf/{name}/", daf.as_view()))


twins("sec", (User3SecRateThrottle,))
twins("min", (User3MinRateThrottle,))
twins("double", (User3SecRateThrottle, User6MinRateThrottle))
twins("nontime", (NonTimeThrottle,))
twins("x", (XYScopedRateThrottle,), throttle_scope="x")
twins("y", (XYScopedRateThrottle,), throttle_scope="y")
twins("unscoped", (XYScopedRateThrottle,))
twins("limit", (XYScopedRateThrottle,), throttle_scope="test_limit")
twins("open", (OpenScopedRateThrottle,), throttle_scope="open")


@drf_api_view(["GET"])
@drf_throttle_classes([XYScopedRateThrottle])
@throttle_scope("x")
def drf_function_view(request: Any) -> Response:
    return Response("foo")


@daf_api_view(["GET"])
@daf_throttle_classes([XYScopedRateThrottle])
@throttle_scope("x")
async def daf_function_view(request: Any) -> Response:
    return Response("foo")


if not hasattr(drf_decorators, "throttle_scope"):
    # DRF < 3.18's @api_view ignores `throttle_scope`: set it where 3.18 puts it.
    drf_function_view.cls.throttle_scope = "x"  # type: ignore[attr-defined]

urlpatterns += [
    path("drf/function/", drf_function_view),
    path("daf/function/", daf_function_view),
]


def set_throttle_timer(throttles: tuple[type, ...], value: float) -> None:
    """DRF's way of injecting time: replace `timer` on the class."""
    for cls in throttles:
        cls.timer = lambda self: value  # type: ignore[attr-defined]


# --- stores ---------------------------------------------------------------------------------


class OnDefaultCache:
    store_url: str | None = None

    def reset_store(self) -> None:
        for cache in caches.all():
            cache.clear()

    def stored_history(self, key: str) -> list[float]:
        return list(caches["default"].get(key, []))


class OnMemory:
    store_url: str | None = "memory://"

    def reset_store(self) -> None:
        get_store("memory://").clear()

    def stored_history(self, key: str) -> list[float]:
        entry = get_store("memory://")._data.get(key)
        return list(entry[0]) if entry else []


class OnRedis:
    store_url: str | None = None

    @pytest.fixture(autouse=True)
    def _redis(self, clean_redis: str) -> None:
        self.store_url = clean_redis

    def reset_store(self) -> None:
        pass  # `clean_redis` flushed it

    def stored_history(self, key: str) -> list[float]:
        import redis

        with redis.Redis.from_url(self.store_url) as client:
            return [float(v) for v in client.lrange("daf_drf:" + key, 0, -1)]


class OwnStore(Store):
    """
    A project's own store, written against the `Store` contract alone (`hit` and `ahit`; the
    default `ahit_many`): it keeps its counts in a `MemoryStore` and logs the calls it gets.
    """

    name = "own"

    def __init__(self) -> None:
        self.counts = MemoryStore()
        self.calls: list[str] = []

    def hit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        self.calls.append("hit")
        return self.counts.hit(key, num_requests, duration, now)

    async def ahit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        self.calls.append("ahit")
        return self.counts.hit(key, num_requests, duration, now)


OWN_STORE = OwnStore()


class OnOwnStore:
    """Every throttle's `get_store()` returns `OWN_STORE`: the documented way to plug one in."""

    store_url: str | None = None

    @pytest.fixture(autouse=True)
    def _own_store(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def get_store(throttle: SimpleRateThrottle) -> Store:
            return OWN_STORE

        monkeypatch.setattr(SimpleRateThrottle, "get_store", get_store)

    def reset_store(self) -> None:
        OWN_STORE.counts.clear()
        OWN_STORE.calls.clear()

    def stored_history(self, key: str) -> list[float]:
        entry = OWN_STORE.counts._data.get(key)
        return list(entry[0]) if entry else []


class ThrottleTestCase(SimpleTestCase):
    """Mounts this module's views; `side` is "drf" or "daf"; `store_url` picks the store."""

    async_client_class = AsyncAPIClient
    side = "daf"
    store_url: str | None = None

    def setUp(self) -> None:
        overrides = override_settings(
            ROOT_URLCONF=__name__, DAF_DRF={"THROTTLE_STORE": self.store_url}
        )
        overrides.enable()
        self.addCleanup(overrides.disable)
        self.reset_store()  # type: ignore[attr-defined]
        XYScopedRateThrottle.TIMER_SECONDS = 0.0

    async def get(self, name: str, user: Any = None, **extra: Any) -> Any:
        self.async_client.force_authenticate(user)
        return await self.async_client.get(f"/{self.side}/{name}/", **extra)


# --- behaviours -----------------------------------------------------------------------------


class ThrottlingBehaviour:
    """DRF's `ThrottlingTests`."""

    async def test_requests_are_throttled(self) -> None:
        set_throttle_timer((User3SecRateThrottle,), 0)
        statuses = [(await self.get("sec")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]

    async def test_request_throttling_expires(self) -> None:
        set_throttle_timer((User3SecRateThrottle,), 0)
        for _ in range(3):
            await self.get("sec")
        assert (await self.get("sec")).status_code == 429
        set_throttle_timer((User3SecRateThrottle,), 1)
        assert (await self.get("sec")).status_code == 200

    async def test_request_throttling_is_per_user(self) -> None:
        set_throttle_timer((User3SecRateThrottle,), 0)
        alice, bob = User(pk=1, username="alice"), User(pk=2, username="bob")
        for _ in range(3):
            await self.get("sec", user=alice)
        assert (await self.get("sec", user=alice)).status_code == 429
        assert (await self.get("sec", user=bob)).status_code == 200

    async def test_multiple_throttles_retry_after_1_then_59_then_58(self) -> None:
        # DRF's test_request_throttling_multiple_throttles: every throttle is evaluated and
        # the largest wait wins.
        throttles = (User3SecRateThrottle, User6MinRateThrottle)
        set_throttle_timer(throttles, 0)
        for _ in range(3):
            assert (await self.get("double")).status_code == 200
        response = await self.get("double")
        assert (response.status_code, response["Retry-After"]) == (429, "1")
        # The denied request still counted for 6/min, which allows two more, not three.
        set_throttle_timer(throttles, 1)
        for _ in range(2):
            assert (await self.get("double")).status_code == 200
        response = await self.get("double")
        assert (response.status_code, response["Retry-After"]) == (429, "59")
        set_throttle_timer(throttles, 2)
        response = await self.get("double")
        assert (response.status_code, response["Retry-After"]) == (429, "58")

    async def test_seconds_field_is_retry_after_1(self) -> None:
        set_throttle_timer((User3SecRateThrottle,), 0)
        headers = [(await self.get("sec")).get("Retry-After") for _ in range(4)]
        assert headers == [None, None, None, "1"]

    async def test_minutes_field_is_retry_after_60(self) -> None:
        set_throttle_timer((User3MinRateThrottle,), 0)
        headers = [(await self.get("min")).get("Retry-After") for _ in range(4)]
        assert headers == [None, None, None, "60"]

    async def test_next_rate_remains_constant_if_followed(self) -> None:
        set_throttle_timer((User3MinRateThrottle,), 0)
        headers = [(await self.get("min")).get("Retry-After") for _ in range(5)]
        assert headers == [None, None, None, "60", "60"]

    async def test_throttle_body_names_the_wait(self) -> None:
        set_throttle_timer((User3MinRateThrottle,), 0)
        for _ in range(3):
            await self.get("min")
        response = await self.get("min")
        assert response.json() == {
            "detail": "Request was throttled. Expected available in 60 seconds."
        }

    async def test_non_time_throttle_denies_without_retry_after(self) -> None:
        if hasattr(NonTimeThrottle, "called"):
            del NonTimeThrottle.called
        assert (await self.get("nontime")).status_code == 200
        response = await self.get("nontime")
        assert response.status_code == 429
        assert "Retry-After" not in response

    async def test_lowered_rate_gives_a_none_wait_which_is_ignored(self) -> None:
        # DRF's test_throttle_rate_change_negative.
        throttles = (User3SecRateThrottle, User6MinRateThrottle)
        set_throttle_timer(throttles, 0)
        for _ in range(24):
            response = await self.get("double")
        assert (response.status_code, response["Retry-After"]) == (429, "60")
        User3SecRateThrottle.rate = "1/sec"
        try:
            for _ in range(24):
                response = await self.get("double")
            assert (response.status_code, response["Retry-After"]) == (429, "60")
        finally:
            User3SecRateThrottle.rate = "3/sec"

    async def test_a_rate_decrease_gives_drfs_none_wait_only_on_drfs_storage(self) -> None:
        set_throttle_timer((User3SecRateThrottle,), 0)
        for _ in range(3):
            await self.get("sec")
        User3SecRateThrottle.rate = "1/sec"
        try:
            response = await self.get("sec")
        finally:
            User3SecRateThrottle.rate = "3/sec"
        assert response.status_code == 429
        if isinstance(self, OnDefaultCache):
            # DRF's storage, DRF's answer (#1438): more history than the new rate allows
            # means no wait, so no Retry-After.
            assert "Retry-After" not in response
        else:
            # daf_drf's stores know when the next request is admitted: the newest of the three
            # entries (t=0) expires at t=1. A documented difference from DRF.
            assert response["Retry-After"] == "1"


class ScopedBehaviour:
    """DRF's `ScopedRateThrottleTests`."""

    async def test_scoped_rate_throttle(self) -> None:
        def tick(seconds: float = 1) -> None:
            XYScopedRateThrottle.TIMER_SECONDS += seconds

        for _round in range(2):
            for expected in (200, 200, 200, 429):
                assert (await self.get("x")).status_code == expected
                tick()
            for expected in (200, 429):
                assert (await self.get("y")).status_code == expected
                tick()
            tick(55)

    async def test_unscoped_view_is_not_throttled(self) -> None:
        for _ in range(20):
            assert (await self.get("unscoped")).status_code == 200

    async def test_a_scope_whose_rate_is_none_is_not_throttled(self) -> None:
        # DRF: `parse_rate(None)` is "no limit", and `allow_request` admits.
        for _ in range(5):
            assert (await self.get("open")).status_code == 200

    async def test_throttle_scope_on_api_view_function(self) -> None:
        statuses = [(await self.get("function")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]

    async def test_authenticated_users_are_keyed_by_pk(self) -> None:
        alice = User(pk=7, username="alice")
        for _ in range(3):
            await self.get("x", user=alice)
        assert (await self.get("x", user=alice)).status_code == 429
        assert (await self.get("x")).status_code == 200  # anonymous: another key


XFF = "0.0.0.0, 1.1.1.1, 2.2.2.2"


class ProxyBehaviour:
    """DRF's `XffSpoofingTests` / `XffUniqueMachinesTest`, NUM_PROXIES read per request."""

    async def hit(self, num_proxies: int | None, xff: str) -> int:
        with override_settings(REST_FRAMEWORK={"NUM_PROXIES": num_proxies}):
            response = await self.get("limit", REMOTE_ADDR="3.3.3.3", HTTP_X_FORWARDED_FOR=xff)
        return int(response.status_code)

    async def test_accepts_request_under_limit(self) -> None:
        assert await self.hit(0, XFF) == 200

    async def test_denies_request_over_limit(self) -> None:
        assert [await self.hit(0, XFF), await self.hit(0, XFF)] == [200, 429]

    async def test_no_proxies_ignores_spoofed_xff(self) -> None:
        assert [await self.hit(0, XFF), await self.hit(0, "9.9.9.9")] == [200, 429]

    async def test_xff_spoofing_doesnt_change_machine_id_with_one_app_proxy(self) -> None:
        await self.hit(1, XFF)
        assert await self.hit(1, "4.4.4.4, 5.5.5.5, 2.2.2.2") == 429

    async def test_xff_spoofing_doesnt_change_machine_id_with_two_app_proxies(self) -> None:
        await self.hit(2, XFF)
        assert await self.hit(2, "4.4.4.4, 1.1.1.1, 2.2.2.2") == 429

    async def test_unique_clients_are_counted_independently_with_one_proxy(self) -> None:
        await self.hit(1, XFF)
        assert await self.hit(1, "0.0.0.0, 1.1.1.1, 7.7.7.7") == 200

    async def test_unique_clients_are_counted_independently_with_two_proxies(self) -> None:
        await self.hit(2, XFF)
        assert await self.hit(2, "0.0.0.0, 7.7.7.7, 2.2.2.2") == 200

    async def test_unset_num_proxies_lets_any_xff_pick_a_fresh_bucket(self) -> None:
        # DRF's default, documented as insecure: the whole header is the ident.
        await self.hit(None, XFF)
        assert await self.hit(None, "6.6.6.6") == 200
        assert await self.hit(None, "0.0.0.0,1.1.1.1,  2.2.2.2") == 429


class SharedCounterBehaviour:
    """A DRF view and a daf_drf view with the same throttle class and scope share one limit."""

    async def test_drf_and_daf_views_count_against_the_same_limit(self) -> None:
        set_throttle_timer((User3MinRateThrottle,), 0)
        statuses = []
        for side in ("drf", "daf", "drf", "daf"):
            response = await self.async_client.get(f"/{side}/min/")
            statuses.append(response.status_code)
        assert statuses == [200, 200, 200, 429]
        assert self.stored_history("throttle_minutes_127.0.0.1") == [0.0, 0.0, 0.0]


BEHAVIOURS = (ThrottlingBehaviour, ScopedBehaviour, ProxyBehaviour)
STORES = {
    "DefaultCache": OnDefaultCache,
    "Memory": OnMemory,
    "Redis": OnRedis,
    "OwnStore": OnOwnStore,
}

for _store_name, _store in STORES.items():
    for _behaviour in BEHAVIOURS:
        for _side in ("drf", "daf"):
            _name = f"Test{_behaviour.__name__}On{_store_name}{_side.title()}View"
            globals()[_name] = type(_name, (_store, _behaviour, ThrottleTestCase), {"side": _side})
    _name = f"TestSharedCountersOn{_store_name}"
    globals()[_name] = type(_name, (_store, SharedCounterBehaviour, ThrottleTestCase), {})


class TestOwnStoreThroughTheContract(OnOwnStore, ThrottleTestCase):
    """What a store written against `Store` is asked, on each kind of view."""

    async def test_a_daf_drf_view_asks_ahit_for_each_throttle_in_order(self) -> None:
        set_throttle_timer((User3SecRateThrottle, User6MinRateThrottle), 0)
        statuses = [(await self.get("double")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert OWN_STORE.calls == ["ahit"] * 8  # the default `ahit_many`: one per throttle
        assert len(self.stored_history("throttle_minutes_127.0.0.1")) == 4  # 6/min: all four

    async def test_a_drf_view_asks_hit(self) -> None:
        self.side = "drf"
        set_throttle_timer((User3SecRateThrottle, User6MinRateThrottle), 0)
        assert (await self.get("double")).status_code == 200
        assert OWN_STORE.calls == ["hit", "hit"]


# --- the throttle objects themselves (DRF's SimpleRateThrottleTests, AnonRateThrottleTests) --


class TestRoundTripsOnRedis(OnRedis, ThrottleTestCase):
    """The throttles of a daf_drf view check Redis together: one round trip per request."""

    def evalsha_calls(self) -> int:
        from tests.support.redis import command_calls

        return command_calls(self.store_url).get("evalsha", 0)

    async def test_two_throttles_one_round_trip_on_daf_drf_two_on_drf(self) -> None:
        set_throttle_timer((User3SecRateThrottle, User6MinRateThrottle), 0)
        get_store(self.store_url).hit("warm", 1, 60, None)  # loads the script (NOSCRIPT, EVAL)
        before = self.evalsha_calls()
        statuses = [(await self.get("double")).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert self.evalsha_calls() - before == 4
        self.side = "drf"  # DRF's sync path checks each throttle on its own
        await self.get("double")
        assert self.evalsha_calls() - before == 6
        # Both paths counted every admitted check of the 6/min throttle: 3 + 1 + 1.
        assert len(self.stored_history("throttle_minutes_127.0.0.1")) == 5


class TestSimpleRateThrottleUnit(SimpleTestCase):
    def test_missing_scope_and_rate_is_improperly_configured(self) -> None:
        from daf_drf.throttling import SimpleRateThrottle

        with pytest.raises(ImproperlyConfigured, match="You must set either"):
            SimpleRateThrottle()

    def test_scope_without_a_rate_is_improperly_configured(self) -> None:
        from daf_drf.throttling import SimpleRateThrottle

        class Throttle(SimpleRateThrottle):
            scope = "nope"
            THROTTLE_RATES: dict[str, Any] = {}

        with pytest.raises(ImproperlyConfigured, match="No default throttle rate set for 'nope'"):
            Throttle()

    def test_wait_is_drfs_formula(self) -> None:
        # The cases verified against DRF 3.18.3 (num=3, duration=60, now=100).
        throttle = User3MinRateThrottle()
        throttle.now = 100
        for history, expected in (
            ([], 15.0),
            ([100], 20.0),
            ([100, 90, 50], 10.0),
            ([100] * 3, 60.0),
            ([100] * 5, None),
        ):
            throttle.history = history
            assert throttle.wait() == expected


# --- rates ----------------------------------------------------------------------------------

ACCEPTED_RATES = {
    "3/s": (3, 1),
    "3/sec": (3, 1),
    "3/second": (3, 1),
    "3/seconds": (3, 1),
    "10/m": (10, 60),
    "10/min": (10, 60),
    "10/minute": (10, 60),
    "10/mins": (10, 60),
    "5/h": (5, 3600),
    "5/hour": (5, 3600),
    "5/hr": (5, 3600),
    "5/hours": (5, 3600),
    "100/d": (100, 86400),
    "100/day": (100, 86400),
    "100/days": (100, 86400),
    "0/s": (0, 1),
}
REJECTED_RATES = [
    "10/month",
    "10/mango",
    "10/x",
    "-5/m",
    "ten/m",
    "10/",
    "10",
    "3/S",
    "3/ s",
    "3/10s",
    " 3/s",
    "3/s ",
    "3.5/s",
]


@pytest.mark.parametrize(("rate", "expected"), ACCEPTED_RATES.items())
def test_rates_parse_as_drf_parses_them(rate: str, expected: tuple[int, int]) -> None:
    from rest_framework.throttling import SimpleRateThrottle as DrfSimpleRateThrottle

    from daf_drf.throttling import parse_rate

    assert parse_rate(rate) == expected
    assert DrfSimpleRateThrottle.parse_rate(None, rate) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", REJECTED_RATES)
def test_rates_drf_would_crash_on_or_misread_are_improperly_configured(rate: str) -> None:
    class Throttle(UserRateThrottle):
        scope = "burst"
        THROTTLE_RATES = {"burst": rate}

    with pytest.raises(ImproperlyConfigured, match="scope 'burst'"):
        Throttle()


def test_month_is_reported_as_misread_per_minute() -> None:
    from daf_drf.throttling import rate_problem

    assert "10 per 60 s" in (rate_problem("10/month") or "")


def test_none_rate_means_no_limit() -> None:
    from daf_drf.throttling import parse_rate

    assert parse_rate(None) == (None, None)


# --- hooks: a project's own throttles in daf_drf views ---------------------------------------


class ProjectSyncThrottle(BaseThrottle):
    """A project's sync throttle with its own allow_request: may do I/O, so one thread hop."""

    threads: list[int] = []

    def allow_request(self, request: Any, view: Any) -> bool:
        import threading

        self.threads.append(threading.get_ident())
        return len(self.threads) < 2

    def wait(self) -> float:
        return 3.0


class ProjectAsyncThrottle(BaseThrottle):
    async def allow_request(self, request: Any, view: Any) -> bool:  # type: ignore[override]
        return False

    def wait(self) -> float:
        return 7.0


class ProjectKeyThrottle(UserRateThrottle):
    """Overrides get_cache_key without `inline_safe`: the key is computed in a thread."""

    rate = "1/min"
    threads: list[int] = []

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        import threading

        self.threads.append(threading.get_ident())
        return "project-key"


LOOP_THREADS: list[int] = []


def loop_view(name: str, throttles: tuple[type, ...]) -> None:
    async def get(self: Any, request: Any) -> Response:
        return Response("foo")

    async def initial_marker(self: Any, request: Any, *args: Any, **kwargs: Any) -> None:
        import threading

        LOOP_THREADS.append(threading.get_ident())
        await daf_views.APIView.ainitial(self, request, *args, **kwargs)

    view = type(
        f"Loop{name}",
        (daf_views.APIView,),
        {"throttle_classes": throttles, "get": get, "ainitial": initial_marker},
    )
    urlpatterns.append(path(f"daf/{name}/", view.as_view()))


class DrfOwnThrottle(drf_throttling.UserRateThrottle):
    """DRF's own class, unchanged, in a daf_drf view: the core calls it in one thread hop."""

    rate = "3/min"
    scope = "minutes"
    threads: list[int] = []

    def allow_request(self, request: Any, view: Any) -> bool:
        import threading

        self.threads.append(threading.get_ident())
        return bool(super().allow_request(request, view))


loop_view("drf_own", (DrfOwnThrottle,))
loop_view("project_sync", (ProjectSyncThrottle,))
loop_view("project_async", (ProjectAsyncThrottle,))
loop_view("project_key", (ProjectKeyThrottle,))


class TestProjectThrottlesInDafViews(ThrottleTestCase):
    store_url = "memory://"

    def reset_store(self) -> None:
        get_store("memory://").clear()
        LOOP_THREADS.clear()

    async def test_sync_allow_request_runs_in_a_thread_and_decides(self) -> None:
        ProjectSyncThrottle.threads.clear()
        first, second = await self.get("project_sync"), await self.get("project_sync")
        assert (first.status_code, second.status_code) == (200, 429)
        assert second["Retry-After"] == "3"
        assert not set(ProjectSyncThrottle.threads) & set(LOOP_THREADS)

    async def test_drfs_own_throttle_class_works_and_shares_daf_drfs_counters(self) -> None:
        DrfOwnThrottle.threads.clear()
        set_throttle_timer((DrfOwnThrottle, User3MinRateThrottle), 0)
        with override_settings(DAF_DRF={"THROTTLE_STORE": None}):
            caches["default"].clear()
            first = await self.get("min")  # daf_drf's class, same scope and key
            statuses = [(await self.get("drf_own")).status_code for _ in range(3)]
        assert first.status_code == 200
        assert statuses == [200, 200, 429]
        assert not set(DrfOwnThrottle.threads) & set(LOOP_THREADS)

    async def test_async_allow_request_returning_false_denies(self) -> None:
        response = await self.get("project_async")
        assert (response.status_code, response["Retry-After"]) == (429, "7")

    async def test_overridden_get_cache_key_runs_in_a_thread(self) -> None:
        ProjectKeyThrottle.threads.clear()
        set_throttle_timer((ProjectKeyThrottle,), 0)
        statuses = [(await self.get("project_key")).status_code for _ in range(2)]
        assert statuses == [200, 429]
        assert ProjectKeyThrottle.threads
        assert not set(ProjectKeyThrottle.threads) & set(LOOP_THREADS)


# --- RateLimit headers -----------------------------------------------------------------------

HEADERS_MIDDLEWARE = "daf_drf.throttling.RateLimitHeadersMiddleware"


class RateLimitHeaderBehaviour:
    async def test_headers_are_off_by_default(self) -> None:
        set_throttle_timer((User3MinRateThrottle,), 0)
        with override_settings(MIDDLEWARE=[HEADERS_MIDDLEWARE]):
            response = await self.get("min")
        assert "RateLimit" not in response
        assert "RateLimit-Policy" not in response

    async def test_headers_describe_policy_and_what_is_left(self) -> None:
        set_throttle_timer((User3MinRateThrottle,), 0)
        settings = {"THROTTLE_STORE": self.store_url, "THROTTLE_RATELIMIT_HEADERS": True}
        with override_settings(MIDDLEWARE=[HEADERS_MIDDLEWARE], DAF_DRF=settings):
            first = await self.get("min")
            set_throttle_timer((User3MinRateThrottle,), 15)
            second = await self.get("min")
            await self.get("min")
            denied = await self.get("min")
        assert first["RateLimit-Policy"] == '"minutes";q=3;w=60'
        assert first["RateLimit"] == '"minutes";r=2;t=60'
        assert second["RateLimit"] == '"minutes";r=1;t=45'
        assert (denied.status_code, denied["RateLimit"]) == (429, '"minutes";r=0;t=45')

    async def test_every_throttle_of_the_view_is_listed(self) -> None:
        set_throttle_timer((User3SecRateThrottle, User6MinRateThrottle), 0)
        settings = {"THROTTLE_STORE": self.store_url, "THROTTLE_RATELIMIT_HEADERS": True}
        with override_settings(MIDDLEWARE=[HEADERS_MIDDLEWARE], DAF_DRF=settings):
            response = await self.get("double")
        assert response["RateLimit-Policy"] == '"seconds";q=3;w=1, "minutes";q=6;w=60'
        assert response["RateLimit"] == '"seconds";r=2;t=1, "minutes";r=5;t=60'


for _store_name, _store in STORES.items():
    for _side in ("drf", "daf"):
        _name = f"TestRateLimitHeadersOn{_store_name}{_side.title()}View"
        globals()[_name] = type(
            _name, (_store, RateLimitHeaderBehaviour, ThrottleTestCase), {"side": _side}
        )


# --- store outages through the HTTP stack ----------------------------------------------------


class OutageBehaviour:
    """A store that is down or silent never turns into a 500, on DRF and daf_drf views."""

    store_url: str | None = None

    def reset_store(self) -> None:
        pass

    @pytest.fixture(autouse=True)
    def _down_store(self) -> Any:
        from tests.support.processes import free_port
        from tests.support.redis import BlackHole

        if self.silent:
            hole = BlackHole()
            self.store_url = hole.url
            yield
            hole.close()
        else:
            self.store_url = f"redis://127.0.0.1:{free_port()}/0"
            yield

    async def get_with(self, failure: str) -> Any:
        set_throttle_timer((User3MinRateThrottle,), 0)
        settings = {
            "THROTTLE_STORE": self.store_url,
            "THROTTLE_FAILURE": failure,
            "THROTTLE_TIMEOUT": 0.2,
            "THROTTLE_FAILURE_RETRY_AFTER": 7,
        }
        with override_settings(DAF_DRF=settings):
            return await self.get("min")

    async def test_fail_open_admits(self) -> None:
        response = await self.get_with("open")
        assert response.status_code == 200

    async def test_fail_closed_answers_429_with_the_configured_retry_after(self) -> None:
        response = await self.get_with("closed")
        assert (response.status_code, response["Retry-After"]) == (429, "7")


for _silent in (False, True):
    for _side in ("drf", "daf"):
        _kind = "Silent" if _silent else "Refusing"
        _name = f"TestOutageOf{_kind}RedisOn{_side.title()}View"
        globals()[_name] = type(
            _name, (OutageBehaviour, ThrottleTestCase), {"side": _side, "silent": _silent}
        )


class TestOutageOfASharedDjangoCache(ThrottleTestCase):
    """The default store is DRF's cache; when that cache is down DRF answers 500, daf_drf not."""

    def reset_store(self) -> None:
        pass

    async def test_dead_redis_cache_fails_open_and_closed_without_a_500(self) -> None:
        from tests.support.processes import free_port

        set_throttle_timer((User3MinRateThrottle,), 0)
        dead = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            }
        }
        for side in ("drf", "daf"):
            for failure, expected in (("open", 200), ("closed", 429)):
                # DRF's `cache` attribute is a proxy to caches["default"]: it follows CACHES.
                with override_settings(CACHES=dead, DAF_DRF={"THROTTLE_FAILURE": failure}):
                    response = await self.async_client.get(f"/{side}/min/")
                assert response.status_code == expected, (side, failure)


def test_public_names_are_pinned() -> None:
    from daf_drf import throttling

    assert sorted(throttling.__all__) == [
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


def test_classes_are_drfs_classes() -> None:
    from rest_framework import throttling as drf_throttling

    from daf_drf import throttling

    for name in (
        "BaseThrottle",
        "SimpleRateThrottle",
        "AnonRateThrottle",
        "UserRateThrottle",
        "ScopedRateThrottle",
    ):
        assert issubclass(getattr(throttling, name), getattr(drf_throttling, name))


def test_one_throttle_instance_checked_again_reads_the_store_again() -> None:
    # DRF creates a throttle per request, but a reused instance must not keep a stale decision
    # (here: one from the memory store, then checks against the cache store).
    import asyncio

    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from daf_drf.throttling import SimpleRateThrottle

    class Reused(SimpleRateThrottle):
        rate = "2/min"

        def timer(self) -> float:  # type: ignore[override]
            return 0.0

        def get_cache_key(self, request: Any, view: Any) -> str:
            return "reused"

    request = Request(APIRequestFactory().get("/"))
    caches["default"].clear()
    throttle = Reused()
    with override_settings(DAF_DRF={"THROTTLE_STORE": "memory://"}):
        get_store("memory://").clear()
        assert throttle.allow_request(request, None)

    async def three() -> list[bool]:
        return [await throttle.aallow_request(request, None) for _ in range(3)]

    assert asyncio.run(three()) == [True, True, False]
    assert caches["default"].get("reused") == [0.0, 0.0]


def test_a_subclass_with_its_own_get_ident_loses_the_pure_mark() -> None:
    # Its `get_ident` may do I/O (a GeoIP file, a lookup): the hook rule must run it in a
    # thread, not inline on the loop.
    from daf_drf.hooks import inline_safe, is_inline_safe
    from daf_drf.throttling import AnonRateThrottle as DafAnon

    class ByCountry(DafAnon):
        def get_ident(self, request: Any) -> str:
            return "country-from-a-geoip-file"

    class ByHeader(DafAnon):
        @inline_safe
        def get_ident(self, request: Any) -> str:
            return str(request.headers.get("x-client", ""))

    assert is_inline_safe(DafAnon(), DafAnon().get_cache_key)
    assert not is_inline_safe(ByCountry(), ByCountry().get_cache_key)
    assert is_inline_safe(ByHeader(), ByHeader().get_cache_key)
