"""
Shared fixtures.

`redis_url` is the throwaway redis-server of this test run: the one `make test` started
(`DAF_DRF_TEST_REDIS_URL`), or, when a module is run on its own, one this session starts on a
free loopback port with persistence off and stops by PID at the end. Tests never mock Redis.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.processes import free_port
from tests.support.redis import BlackHole, start_redis, stop_redis


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("DAF_DRF_TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed. Run `make test` (it installs Debian's "
            "`redis-server` package) or install it yourself."
        )
    port = free_port()
    proc = start_redis(port)
    try:
        os.environ["DAF_DRF_TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.environ.pop("DAF_DRF_TEST_REDIS_URL", None)
        stop_redis(proc)


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[str]:
    """The run's redis-server, flushed before and after the test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    try:
        yield redis_url
    finally:
        client.flushall()
        client.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    server = BlackHole()
    try:
        yield server
    finally:
        server.close()


# --- PostgreSQL pass (tests/databases.py) -------------------------------------------------------
# `make test` runs the suite on SQLite, then again with DAF_DRF_TEST_DATABASE=postgres and
# DAF_DRF_TEST_DB_ONLY=1: that second pass keeps the tests that touch a database and deselects
# (reports, never skips) the others, which would only repeat the SQLite pass. A test touches a
# database when it is a Django `TransactionTestCase` (`TestCase` included; `SimpleTestCase`
# refuses queries), asks for pytest-django's `db`/`transactional_db`, or is marked `database`
# (a server or worker process with a database of its own).

_DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
}


def _touches_database(item: pytest.Item) -> bool:
    from django.test import TransactionTestCase

    cls = getattr(item, "cls", None)
    if cls is not None and issubclass(cls, TransactionTestCase):
        return True
    if item.get_closest_marker("database") or item.get_closest_marker("django_db"):
        return True
    return bool(_DB_FIXTURES.intersection(getattr(item, "fixturenames", ())))


def pytest_report_header(config: pytest.Config) -> str:
    from tests.databases import on_postgres, postgres_dsn

    if on_postgres():
        only = " (database-touching tests only)" if os.environ.get("DAF_DRF_TEST_DB_ONLY") else ""
        return f"database: PostgreSQL at {postgres_dsn()}{only}"
    return "database: SQLite"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("DAF_DRF_TEST_DB_ONLY"):
        return
    keep = [item for item in items if _touches_database(item)]
    dropped = [item for item in items if not _touches_database(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def _sequences_roll_back_with_the_data() -> None:
    """
    On PostgreSQL, point the id sequences past the remaining rows whenever a test's data is
    rolled back or flushed.

    SQLite's AUTOINCREMENT counter rolls back with `TestCase`'s transactions, so every test
    class and every test sees ids continue from the rows that exist; PostgreSQL's sequences
    never roll back. Tests that name an object by the id it gets (`/books/1/`) then hold on
    both engines, as they would for a project's own suite on a fresh database.
    """
    from django.test import TestCase, TransactionTestCase

    from tests.databases import reset_sequences

    rollback = TestCase._rollback_atomics.__func__  # type: ignore[attr-defined]
    teardown = TransactionTestCase._fixture_teardown

    def _rollback_atomics(cls: type[TestCase], atomics: Any) -> None:
        rollback(cls, atomics)
        for alias in atomics:
            reset_sequences(alias)

    def _fixture_teardown(self: TransactionTestCase) -> None:
        teardown(self)
        if not isinstance(self, TestCase):
            for alias in self._databases_names(include_mirrors=False):
                reset_sequences(alias)

    TestCase._rollback_atomics = classmethod(_rollback_atomics)  # type: ignore[method-assign,assignment]
    TransactionTestCase._fixture_teardown = _fixture_teardown  # type: ignore[method-assign]


def pytest_configure(config: pytest.Config) -> None:
    from tests.databases import on_postgres

    if on_postgres():
        _sequences_roll_back_with_the_data()
