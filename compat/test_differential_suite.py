"""
The differential suite: every scenario of `compat/scenarios.py` is sent to the DRF project
(the oracle, with DRF's own throttle classes) and to the same project migrated to daf_drf,
from the same starting state, through Django's async request path. Status, the headers that
matter and the body must be identical, and the DRF oracle must answer the status (and
`Retry-After`) each step expects, so a scenario cannot pass by failing the same way on both
sides. The throttling scenarios run again with daf_drf's counters in `memory://` and in a real
redis-server. The run prints the suite's size at the end (`compat/conftest.py`).
"""

from __future__ import annotations

from typing import Any

import pytest
import redis
from django.test import TestCase

from compat.runner import DAF, STATS, Scenario, Side, compare, differences
from compat.scenarios import GROUPS, THROTTLING, TOKENS, seed
from daf_drf.backends import get_store


class DifferentialSuite(TestCase):
    """One test per scenario: `test_<group>__<scenario>`."""

    @classmethod
    def setUpTestData(cls) -> None:
        seed()


def _make_test(scenario: Scenario) -> Any:
    async def test(self: DifferentialSuite) -> None:
        oracle, migrated = await compare(scenario, TOKENS)
        STATS["scenarios"] += 1
        STATS["requests"] += len(scenario.steps)
        report = differences(scenario, oracle, migrated)
        assert not report, f"\n{report}"

    test.__doc__ = f"{scenario.name}: {len(scenario.steps)} requests, identical on both sides."
    return test


def _clear_memory_store() -> None:
    get_store("memory://").clear()


class ThrottlingOnTheMemoryStore(TestCase):
    """The throttling scenarios with daf_drf's counters in `memory://`."""

    @classmethod
    def setUpTestData(cls) -> None:
        seed()

    def side(self) -> Side:
        return Side(
            "daf_drf, memory://",
            DAF.rest_framework,
            DAF.urlconf,
            {"THROTTLE_STORE": "memory://"},
            _clear_memory_store,
        )


@pytest.mark.redis
@pytest.mark.usefixtures("_redis_url")
class ThrottlingOnTheRedisStore(ThrottlingOnTheMemoryStore):
    """The throttling scenarios with daf_drf's counters in a real redis-server."""

    redis_url = ""

    def side(self) -> Side:
        def flush() -> None:
            client = redis.Redis.from_url(self.redis_url)
            client.flushdb()
            client.close()

        return Side(
            "daf_drf, redis://",
            DAF.rest_framework,
            DAF.urlconf,
            {"THROTTLE_STORE": self.redis_url},
            flush,
        )


@pytest.fixture
def _redis_url(request: Any, clean_redis: str) -> None:
    request.instance.redis_url = clean_redis


def _make_store_test(scenario: Scenario) -> Any:
    async def test(self: ThrottlingOnTheMemoryStore) -> None:
        oracle, migrated = await compare(scenario, TOKENS, migrated=self.side())
        STATS["scenarios"] += 1
        STATS["requests"] += len(scenario.steps)
        report = differences(scenario, oracle, migrated)
        assert not report, f"\n{report}"

    return test


for _scenario in THROTTLING:
    setattr(ThrottlingOnTheMemoryStore, f"test_{_scenario.name}", _make_store_test(_scenario))


for _group, _scenarios in GROUPS.items():
    for _scenario in _scenarios:
        _name = f"test_{_group}__{_scenario.name}"
        if hasattr(DifferentialSuite, _name):
            raise RuntimeError(f"duplicate scenario {_name}")
        setattr(DifferentialSuite, _name, _make_test(_scenario))
