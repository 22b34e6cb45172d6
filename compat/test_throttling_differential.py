"""
DRF is the oracle for throttling: each DRF view below uses DRF's own throttle classes, its
daf_drf twin uses daf_drf's classes, and every response (status, body, `Retry-After`) must be
identical, with time injected through `timer` exactly as DRF's tests inject it.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import caches
from django.test import SimpleTestCase, override_settings
from rest_framework import decorators as drf_decorators
from rest_framework import throttling as drf_throttling
from rest_framework import views as drf_views
from rest_framework.decorators import api_view as drf_api_view
from rest_framework.decorators import throttle_classes as drf_throttle_classes
from rest_framework.response import Response

from compat.differential import Clock, Differential, Scenario
from daf_drf import throttling as daf_throttling
from daf_drf import views as daf_views
from daf_drf.decorators import api_view as daf_api_view
from daf_drf.decorators import throttle_classes as daf_throttle_classes
from daf_drf.decorators import throttle_scope


def pair(base: str, **attrs: Any) -> tuple[type, type]:
    """The same throttle, subclassing DRF's class and daf_drf's class of name `base`."""
    drf = type(f"Drf{base}", (getattr(drf_throttling, base),), dict(attrs))
    daf = type(f"Daf{base}", (getattr(daf_throttling, base),), dict(attrs))
    return drf, daf


def twins(*throttles: tuple[type, type], **attrs: Any) -> tuple[Any, Any]:
    def drf_get(self: Any, request: Any) -> Response:
        return Response({"ok": True})

    async def daf_get(self: Any, request: Any) -> Response:
        return Response({"ok": True})

    drf = type(
        "DrfView",
        (drf_views.APIView,),
        {"throttle_classes": [t[0] for t in throttles], "get": drf_get, **attrs},
    )
    daf = type(
        "DafView",
        (daf_views.APIView,),
        {"throttle_classes": [t[1] for t in throttles], "get": daf_get, **attrs},
    )
    return drf.as_view(), daf.as_view()


def retry_afters(outcomes: list[Any]) -> list[str | None]:
    return [o.headers.get("Retry-After") for o in outcomes]


SECONDS = pair("UserRateThrottle", rate="3/sec", scope="seconds")
MINUTES = pair("UserRateThrottle", rate="6/min", scope="minutes")
SCOPED = pair("ScopedRateThrottle", THROTTLE_RATES={"x": "3/min", "y": "1/min", "day": "1/day"})


class NonTimeMixin:
    def allow_request(self, request: Any, view: Any) -> bool:
        cls = type(self)
        if getattr(cls, "called", False):
            return False
        cls.called = True  # type: ignore[attr-defined]
        return True


NON_TIME = (
    type("DrfNonTime", (NonTimeMixin, drf_throttling.BaseThrottle), {}),
    type("DafNonTime", (NonTimeMixin, daf_throttling.BaseThrottle), {}),
)


def reset_all() -> None:
    # Both sides keep history under the same keys (that is the point), so clear between them.
    for cache in caches.all():
        cache.clear()
    for cls in NON_TIME:
        cls.called = False  # type: ignore[attr-defined]


class ThrottlingDifferentialTests(SimpleTestCase):
    def differential(self, views: tuple[Any, Any], *throttles: tuple[type, type]) -> Differential:
        timed = [cls for pair_ in throttles for cls in pair_]
        return Differential(*views, clock=Clock(start=0.0), timed=timed, json_body=True)

    async def test_retry_after_is_1_then_59_then_58_for_3_per_sec_and_6_per_min(self) -> None:
        diff = self.differential(twins(SECONDS, MINUTES), SECONDS, MINUTES)
        scenario = Scenario().get().get().get().get().advance(1).get().get().get().advance(1).get()
        outcomes = await diff.run(scenario)
        assert [o.status for o in outcomes] == [200, 200, 200, 429, 200, 200, 429, 429]
        assert [retry_afters(outcomes)[i] for i in (3, 6, 7)] == ["1", "59", "58"]

    async def test_retry_after_stays_60_while_the_window_is_full(self) -> None:
        minutes = pair("UserRateThrottle", rate="3/min", scope="minutes")
        outcomes = await self.differential(twins(minutes), minutes).run(
            Scenario().get().get().get().get().get().advance(30).get().advance(30).get()
        )
        assert retry_afters(outcomes) == [None, None, None, "60", "60", "30", None]

    async def test_a_none_wait_gives_429_without_retry_after(self) -> None:
        diff = Differential(*twins(NON_TIME), json_body=True, reset=reset_all)
        outcomes = await diff.run(Scenario().get().get())
        assert [(o.status, o.headers.get("Retry-After")) for o in outcomes] == [
            (200, None),
            (429, None),
        ]

    async def test_none_waits_are_ignored_when_another_throttle_has_a_wait(self) -> None:
        diff = Differential(
            *twins(NON_TIME, SECONDS),
            clock=Clock(start=0.0),
            timed=SECONDS,
            json_body=True,
            reset=reset_all,
        )
        outcomes = await diff.run(Scenario().get().get().get().get())
        assert retry_afters(outcomes) == [None, None, None, "1"]

    async def test_scoped_rates_per_view(self) -> None:
        for scope, expected in (("x", [200, 200, 200, 429]), ("y", [200, 429, 429, 429])):
            diff = self.differential(twins(SCOPED, throttle_scope=scope), SCOPED)
            outcomes = await diff.run(Scenario().get().get().get().get().advance(60).get())
            assert [o.status for o in outcomes][:4] == expected
            assert outcomes[-1].status == 200

    async def test_unscoped_view_is_not_throttled(self) -> None:
        outcomes = await self.differential(twins(SCOPED), SCOPED).run(
            Scenario(Scenario().get().steps * 10)
        )
        assert {o.status for o in outcomes} == {200}

    async def test_throttle_scope_on_api_view_functions(self) -> None:
        @drf_api_view(["GET"])
        @drf_throttle_classes([SCOPED[0]])
        @throttle_scope("x")
        def drf_view(request: Any) -> Response:
            return Response({"ok": True})

        @daf_api_view(["GET"])
        @daf_throttle_classes([SCOPED[1]])
        @throttle_scope("x")
        async def daf_view(request: Any) -> Response:
            return Response({"ok": True})

        if not hasattr(drf_decorators, "throttle_scope"):
            # DRF < 3.18's @api_view ignores `throttle_scope`: set it where 3.18 puts it.
            drf_view.cls.throttle_scope = "x"  # type: ignore[attr-defined]

        diff = self.differential((drf_view, daf_view), SCOPED)
        outcomes = await diff.run(Scenario().get().get().get().get())
        assert [o.status for o in outcomes] == [200, 200, 200, 429]

    async def test_num_proxies_spoofing_vectors(self) -> None:
        views = twins(SCOPED, throttle_scope="day")
        first = "0.0.0.0, 1.1.1.1, 2.2.2.2"
        vectors = {
            # NUM_PROXIES: (second XFF, DRF's verdict on it)
            0: ("9.9.9.9", 429),
            1: ("4.4.4.4, 5.5.5.5, 2.2.2.2", 429),
            2: ("4.4.4.4, 1.1.1.1, 2.2.2.2", 429),
            None: ("6.6.6.6", 200),
        }
        for num_proxies, (spoofed, verdict) in vectors.items():
            scenario = Scenario()
            for xff in (first, spoofed):
                scenario.get(headers={"X-Forwarded-For": xff}, extra={"REMOTE_ADDR": "3.3.3.3"})
            with override_settings(REST_FRAMEWORK={"NUM_PROXIES": num_proxies}):
                outcomes = await self.differential(views, SCOPED).run(scenario)
            assert [o.status for o in outcomes] == [200, verdict], num_proxies

    async def test_unique_clients_behind_proxies_are_counted_independently(self) -> None:
        views = twins(SCOPED, throttle_scope="day")
        for num_proxies, other in (
            (1, "0.0.0.0, 1.1.1.1, 7.7.7.7"),
            (2, "0.0.0.0, 7.7.7.7, 2.2.2.2"),
        ):
            scenario = Scenario()
            for xff in ("0.0.0.0, 1.1.1.1, 2.2.2.2", other):
                scenario.get(headers={"X-Forwarded-For": xff}, extra={"REMOTE_ADDR": "3.3.3.3"})
            with override_settings(REST_FRAMEWORK={"NUM_PROXIES": num_proxies}):
                outcomes = await self.differential(views, SCOPED).run(scenario)
            assert [o.status for o in outcomes] == [200, 200]
