"""
Shared fixtures.

`redis_url` is the throwaway redis-server of this test run: the one `make test` started
(`DAF_DRF_TEST_REDIS_URL`), or, when a module is run on its own, one this session starts on a
free loopback port with persistence off and stops by PID at the end. Tests never mock Redis.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not listen on 127.0.0.1:{port} within {timeout}s")


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
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        os.environ["DAF_DRF_TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.environ.pop("DAF_DRF_TEST_REDIS_URL", None)
        proc.terminate()
        proc.wait(timeout=10)


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


class BlackHole:
    """A TCP server on loopback that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        # shutdown() wakes the accept() call; close() alone may leave it blocked.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    server = BlackHole()
    try:
        yield server
    finally:
        server.close()


def command_calls(url: str) -> dict[str, int]:
    """Calls per command on the Redis server at `url` since its last `CONFIG RESETSTAT`."""
    import redis

    with redis.Redis.from_url(url) as client:
        stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


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
