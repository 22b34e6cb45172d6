"""
Intermediate states of a migration: some endpoints on daf_drf, the rest still on DRF.

`compat/project/mixed_urls.py` serves the project half-migrated. These tests check that the
half-migrated project answers every scenario of the differential suite exactly as the DRF
project does, that migrated and unmigrated endpoints count against the same throttle limits
on every store (the Django cache as DRF uses it, `memory://`, a real Redis), and what
`ATOMIC_REQUESTS` still covers.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import AsyncClient, TestCase, override_settings

from compat.harness import Clock, project_settings
from compat.project import settings as project
from compat.project.drf_app.models import ErrorLog
from compat.runner import MIXED, Scenario, compare, differences
from compat.scenarios import GROUPS, TOKENS, seed
from daf_drf.backends import get_store

MIXED_URLS = "compat.project.urls"


class MixedStateAnswersLikeDRF(TestCase):
    """Every differential scenario, DRF project vs. the half-migrated one."""

    @classmethod
    def setUpTestData(cls) -> None:
        seed()


def _make_test(scenario: Scenario) -> Any:
    async def test(self: MixedStateAnswersLikeDRF) -> None:
        oracle, mixed = await compare(scenario, TOKENS, migrated=MIXED)
        report = differences(scenario, oracle, mixed)
        assert not report, f"\n{report}"

    return test


for _group, _scenarios in GROUPS.items():
    for _scenario in _scenarios:
        setattr(MixedStateAnswersLikeDRF, f"test_{_group}__{_scenario.name}", _make_test(_scenario))


class SharedThrottleCounters(TestCase):
    """
    An anonymous client and a token user hit a DRF endpoint and a daf_drf endpoint of the
    mixed project in turn; the limits are the project's (`anon` 30/min, `user` 60/min).
    `store` is the `DAF_DRF["THROTTLE_STORE"]` under test (`None`: the Django cache).
    """

    store: str | None = None

    @classmethod
    def setUpTestData(cls) -> None:
        seed()

    def daf_settings(self) -> dict[str, Any]:
        return {"THROTTLE_STORE": self.store, "THROTTLE_KEY_PREFIX": f"{uuid.uuid4().hex}:"}

    async def _alternate(self, first: str, second: str, count: int, **headers: str) -> list[Any]:
        client = AsyncClient()
        responses = []
        for index in range(count):
            url = first if index % 2 == 0 else second
            responses.append(await client.get(url, headers=headers))
        return responses

    async def _run(self, first: str, second: str, count: int, **headers: str) -> list[Any]:
        with (
            override_settings(DAF_DRF=self.daf_settings()),
            project_settings(project.REST_FRAMEWORK, MIXED_URLS),
            Clock().installed() as clock,
        ):
            responses = await self._alternate(first, second, count, **headers)
            clock.advance(60)
            responses += await self._alternate(second, first, 2, **headers)
            return responses

    async def test_anonymous_requests_to_drf_and_daf_endpoints_share_one_limit(self) -> None:
        # /labels/ is still DRF, /health/ is migrated.
        responses = await self._run("/mixed/labels/", "/mixed/health/", 32)
        statuses = [r.status_code for r in responses]
        assert statuses == [200] * 30 + [429, 429] + [200, 200]
        assert responses[30]["Retry-After"] == "60"
        assert responses[31]["Retry-After"] == "60"

    async def test_user_requests_to_drf_and_daf_endpoints_share_one_limit(self) -> None:
        # /whoami/ is still DRF, /echo/ is migrated.
        auth = {"Authorization": f"Token {TOKENS['alice']}"}
        responses = await self._run("/mixed/whoami/", "/mixed/echo/", 62, **auth)
        statuses = [r.status_code for r in responses]
        assert statuses == [200] * 60 + [429, 429] + [200, 200]
        assert {r["Retry-After"] for r in responses[60:62]} == {"60"}


class SharedThrottleCountersInMemory(SharedThrottleCounters):
    store = "memory://"

    def setUp(self) -> None:
        get_store("memory://").clear()


@pytest.mark.redis
@pytest.mark.usefixtures("_redis_store")
class SharedThrottleCountersInRedis(SharedThrottleCounters):
    store = "redis://"


@pytest.fixture
def _redis_store(request: Any, clean_redis: str) -> None:
    request.instance.store = clean_redis


class AtomicRequestsInTheMixedState(TestCase):
    """
    `ATOMIC_REQUESTS` keeps wrapping the endpoints still on DRF; migrated endpoints run outside
    a request transaction (Django refuses to wrap async views), so what a failing request
    wrote persists there unless the code used `daf_drf.transaction.atomic`.
    """

    @classmethod
    def setUpTestData(cls) -> None:
        seed()

    async def _get(self, url: str) -> Any:
        with project_settings(project.REST_FRAMEWORK, MIXED_URLS):
            return await AsyncClient().get(url)

    async def test_drf_endpoint_rolls_back_its_exception_handlers_writes(self) -> None:
        response = await self._get("/mixed/whoami/")  # DRF, 403
        assert response.status_code == 403
        assert await ErrorLog.objects.acount() == 0

    async def test_migrated_endpoint_keeps_its_exception_handlers_writes(self) -> None:
        with project_settings(project.REST_FRAMEWORK, MIXED_URLS):
            response = await AsyncClient().post("/mixed/labels/batch/", {"names": ["x"]})
        assert response.status_code == 403
        log = await ErrorLog.objects.aget()
        assert (log.status, log.path) == (403, "/mixed/labels/batch/")

    async def test_later_queries_still_work_after_a_migrated_endpoint_errored(self) -> None:
        # DRF's handler calls set_rollback(); it must not break the surrounding transaction.
        with project_settings(project.REST_FRAMEWORK, MIXED_URLS):
            client = AsyncClient()
            first = await client.post("/mixed/labels/batch/", {"names": ["x"]})
            second = await client.post("/mixed/labels/batch/", {"names": ["y"]})
        assert (first.status_code, second.status_code) == (403, 403)
        assert await ErrorLog.objects.acount() == 2
