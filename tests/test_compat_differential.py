"""`compat.differential`: the helper must catch every kind of difference it claims to."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import SimpleTestCase, override_settings
from django.urls import path
from rest_framework import throttling
from rest_framework import views as drf_views
from rest_framework.response import Response

from compat import differential
from compat.differential import (
    Advance,
    Call,
    Clock,
    Differential,
    ResponsesDiffer,
    Scenario,
    assert_same_response,
)
from daf_drf.views import APIView


def drf_answering(status: int = 200, body: Any = None, **headers: str) -> Any:
    class Answer(drf_views.APIView):
        authentication_classes: list[Any] = []

        def get(self, request: Any) -> Response:
            return Response(
                body if body is not None else {"ok": True}, status=status, headers=headers
            )

    return Answer.as_view()


def daf_answering(status: int = 200, body: Any = None, **headers: str) -> Any:
    class Answer(APIView):
        authentication_classes: list[Any] = []

        async def get(self, request: Any) -> Response:
            return Response(
                body if body is not None else {"ok": True}, status=status, headers=headers
            )

    return Answer.as_view()


class OnePerMinute(throttling.AnonRateThrottle):
    rate = "1/min"


class DrfThrottled(drf_views.APIView):
    authentication_classes: list[Any] = []
    throttle_classes = [OnePerMinute]

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class DafThrottled(APIView):
    authentication_classes: list[Any] = []
    throttle_classes = [OnePerMinute]

    async def get(self, request: Any) -> Response:
        return Response({"ok": True})


class DrfBoom(drf_views.APIView):
    authentication_classes: list[Any] = []

    def get(self, request: Any) -> Response:
        raise KeyError("boom")


class DafBoom(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        raise KeyError("boom")


class DafOtherBoom(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        raise ValueError("boom")


urlpatterns = [
    path("drf/same/", drf_answering()),
    path("daf/same/", daf_answering()),
]


@override_settings(ROOT_URLCONF=__name__)
class DifferentialTests(SimpleTestCase):
    async def test_identical_answers_pass_and_return_drfs_outcome(self) -> None:
        outcome = await assert_same_response(drf_answering(), daf_answering())
        assert outcome.status == 200
        assert outcome.body == b'{"ok":true}'

    async def test_targets_may_be_url_paths(self) -> None:
        outcome = await assert_same_response("/drf/", "/daf/", "GET", "same/")
        assert outcome.status == 200

    async def test_a_different_status_fails_with_both_values(self) -> None:
        with pytest.raises(ResponsesDiffer, match=r"status: DRF 200 != daf_drf 201"):
            await assert_same_response(drf_answering(), daf_answering(status=201))

    async def test_a_different_body_fails_with_a_unified_diff(self) -> None:
        with pytest.raises(ResponsesDiffer) as info:
            await assert_same_response(drf_answering(body={"a": 1}), daf_answering(body={"a": 2}))
        assert '-  "a": 1' in str(info.value)
        assert '+  "a": 2' in str(info.value)

    async def test_a_different_compared_header_fails(self) -> None:
        with pytest.raises(ResponsesDiffer, match=r"header Retry-After: DRF '5' != daf_drf None"):
            await assert_same_response(drf_answering(**{"Retry-After": "5"}), daf_answering())

    async def test_json_body_mode_ignores_key_order(self) -> None:
        drf = drf_answering(body={"a": 1, "b": 2})
        daf = daf_answering(body={"b": 2, "a": 1})
        with pytest.raises(ResponsesDiffer):
            await assert_same_response(drf, daf)
        await assert_same_response(drf, daf, differential_json_body=True)

    async def test_unhandled_exceptions_are_compared_by_type_and_message(self) -> None:
        outcome = await assert_same_response(DrfBoom.as_view(), DafBoom.as_view())
        assert outcome.exception == ("builtins.KeyError", "'boom'")
        with pytest.raises(ResponsesDiffer, match="exception"):
            await assert_same_response(DrfBoom.as_view(), DafOtherBoom.as_view())

    async def test_clock_is_injected_into_timed_throttles_and_advanced_by_the_scenario(
        self,
    ) -> None:
        clock = Clock(start=5_000.0)
        diff = Differential(
            DrfThrottled.as_view(), DafThrottled.as_view(), clock=clock, timed=[OnePerMinute]
        )
        outcomes = await diff.run(Scenario().get().get().advance(59).get().advance(1).get())
        assert [o.status for o in outcomes] == [200, 429, 429, 200]
        assert [o.headers["Retry-After"] for o in outcomes] == [None, "60", "1", None]
        assert OnePerMinute.timer is time.time  # restored

    async def test_each_side_starts_from_a_clean_cache(self) -> None:
        diff = Differential(DrfThrottled.as_view(), DafThrottled.as_view())
        outcomes = await diff.run([Call(), Call()])
        assert [o.status for o in outcomes] == [200, 429]

    async def test_scenario_builders_cover_every_method(self) -> None:
        scenario = Scenario().get().post().put().patch().delete().head().options()
        assert [step.method for step in scenario.steps if isinstance(step, Call)] == [
            "GET",
            "POST",
            "PUT",
            "PATCH",
            "DELETE",
            "HEAD",
            "OPTIONS",
        ]

    async def test_advance_without_a_clock_is_a_type_error(self) -> None:
        with pytest.raises(TypeError, match="clock"):
            await Differential(drf_answering(), daf_answering()).run([Advance(1)])

    async def test_requests_and_comparisons_are_counted(self) -> None:
        before = dict(differential.counts)
        await Differential(drf_answering(), daf_answering()).run(Scenario().get().get())
        assert differential.counts["requests"] - before.get("requests", 0) == 4
        assert differential.counts["comparisons"] - before.get("comparisons", 0) == 2
        assert differential.counts["scenarios"] - before.get("scenarios", 0) == 1
