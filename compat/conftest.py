"""
Fixtures and reporting for the compat suite.

The compat project's view modules are imported once, before any test changes settings, so
that the policies DRF copies into `@api_view` classes at import time are the ones
`compat.harness.project_settings` knows how to rebind. At the end of the run the size of the
differential suite is printed.
"""

from __future__ import annotations

import importlib
from typing import Any

import pytest

# The throwaway redis-server of the run (tests/conftest.py), for the Redis throttle tests.
from tests.conftest import clean_redis, redis_url  # noqa: F401

PROJECT_MODULES = (
    "compat.project.drf_app.views",
    "compat.project.daf_app.views",
    "compat.project.urls",
    "compat.project.urls_drf",
    "compat.project.urls_daf",
    "compat.project.mixed_urls",
    "compat.project.urls_mixed",
)


@pytest.fixture(scope="session", autouse=True)
def _compat_project_imported() -> None:
    for name in PROJECT_MODULES:
        importlib.import_module(name)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    from compat.runner import STATS

    if not STATS["scenarios"]:
        return
    terminalreporter.write_sep("-", "compat differential suite")
    terminalreporter.write_line(
        f"{STATS['requests']} scripted requests in {STATS['scenarios']} scenarios, each sent "
        f"to the DRF project and to its daf_drf twin: {2 * STATS['requests']} responses "
        "compared (status, headers that matter, body)."
    )
