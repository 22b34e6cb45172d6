"""
The compat harness itself: project settings really apply (and are restored), the clock is
injected, and the scenario runner reports differences instead of hiding them.
"""

from __future__ import annotations

import time

from django.test import TestCase
from rest_framework import throttling as drf_throttling
from rest_framework import views as drf_views

from compat.harness import Clock, project_settings
from compat.project import settings as project
from compat.project.daf_app import views as daf_views
from compat.project.drf_app import views as drf_app_views
from compat.runner import DRF, Runner, Scenario, Side, differences, get
from compat.scenarios import TOKENS, seed
from daf_drf import throttling as daf_throttling


def _throttle_classes(view_function: object) -> list[type]:
    return list(view_function.cls.throttle_classes)  # type: ignore[attr-defined]


def test_project_settings_rebind_the_policies_drf_bound_at_import() -> None:
    before = list(drf_views.APIView.throttle_classes)
    with project_settings(project.REST_FRAMEWORK, "compat.project.urls"):
        expected = [
            daf_throttling.AnonRateThrottle,
            daf_throttling.UserRateThrottle,
            daf_throttling.ScopedRateThrottle,
        ]
        assert list(drf_views.APIView.throttle_classes) == expected
        # `@api_view` copied APIView's list at import: rebound too, on both sides.
        assert _throttle_classes(drf_app_views.health) == expected
        assert _throttle_classes(daf_views.health) == expected
        assert drf_throttling.SimpleRateThrottle.THROTTLE_RATES["stats"] == "3/min"
    assert list(drf_views.APIView.throttle_classes) == before


def test_explicit_view_policies_are_left_alone() -> None:
    with project_settings(project.REST_FRAMEWORK, "compat.project.urls"):
        permissions = drf_app_views.health.cls.permission_classes  # type: ignore[attr-defined]
        assert [p.__name__ for p in permissions] == ["AllowAny"]


def test_clock_drives_every_throttle_timer_and_is_removed() -> None:
    clock = Clock(start=500.0)
    with clock.installed():
        clock.advance(5)
        assert drf_throttling.AnonRateThrottle().timer() == 505.0
        assert daf_throttling.AnonRateThrottle().timer() == 505.0
    assert drf_throttling.SimpleRateThrottle.timer is time.time


class RunnerReportsDifferences(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        seed()

    async def test_the_oracle_agrees_with_itself(self) -> None:
        scenario = Scenario("list", get("projects/", 200), get("projects/1/stats/", 200))
        first = await Runner(DRF, Clock(), TOKENS).run(scenario)
        second = await Runner(DRF, Clock(), TOKENS).run(scenario)
        assert differences(scenario, first, second) == ""

    async def test_a_different_page_size_is_reported(self) -> None:
        smaller = Side(
            "DRF, 2 a page", {**project.ORIGINAL_REST_FRAMEWORK, "PAGE_SIZE": 2}, DRF.urlconf
        )
        scenario = Scenario("list", get("projects/", 200))
        oracle = await Runner(DRF, Clock(), TOKENS).run(scenario)
        other = await Runner(smaller, Clock(), TOKENS).run(scenario)
        assert len(oracle[0].body["results"]) == 3
        assert len(other[0].body["results"]) == 2
        assert "step 0: GET /api/projects/" in differences(scenario, oracle, other)

    async def test_a_wrong_expectation_is_reported(self) -> None:
        scenario = Scenario("wrong", get("projects/999/", 200))
        oracle = await Runner(DRF, Clock(), TOKENS).run(scenario)
        report = differences(scenario, oracle, oracle)
        assert "the DRF oracle answered 404, the scenario expects 200" in report
