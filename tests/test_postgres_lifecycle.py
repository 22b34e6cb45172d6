"""
Database connections under a real uvicorn server, counted by PostgreSQL itself.

For each combination of ASGI handler (Django's stock `ASGIHandler`, `daf_drf.asgi` with its
default thread pool, an explicit size, or the explicit opt-out `ASGI_THREAD_POOL_SIZE = 0`),
`CONN_MAX_AGE` (0, 60) and Django's psycopg pool
(`OPTIONS={"pool": ...}`), the test serves a mix of requests: async ORM calls behind token
authentication, a sync permission that queries in a thread hop, `adata` serializers, a handler
that raises inside `daf_drf.transaction.atomic` after a write, and requests whose client
disconnects while their query runs. A sampler polls `pg_stat_activity` throughout. Asserted:

- after the last request, the server's connections go back to the bound of the configuration
  (0 with `CONN_MAX_AGE = 0`; the pool size per alias otherwise) and none is
  `idle in transaction`; during the run they never exceed the bound the configuration
  promises: pool sizes for `daf_drf.asgi` in every configuration, its default and its opt-out
  included (the client runs more requests at once than that bound, so an entry whose
  connections follow the requests in flight fails), the client's concurrency for Django's
  stock handler;
- no request found its connection inside a transaction another request left open (each view
  asks the server, see `tests/lifecycle_project/views.py`);
- no 5xx except from the raising handler, whose write is rolled back;
- `daf_drf.asgi` with the opt-out (`ASGI_THREAD_POOL_SIZE = 0`) refuses `CONN_MAX_AGE > 0` at
  start-up (`daf_drf.E053`) without opening a connection, where Django's stock handler leaks
  one connection per request thread.

The number of requests per combination is `DAF_DRF_LIFECYCLE_REQUESTS` (400 in `make test`;
10,000 in `make test-pg-lifecycle`, a CI step of its own). Each combination prints its figures.
PostgreSQL only: with SQLite there is no server to count connections on.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.databases import create_database, drop_database, on_postgres, postgres_dsn
from tests.support.processes import free_port, stop, wait_for_port

pytestmark = [
    pytest.mark.database,
    pytest.mark.e2e,
    pytest.mark.skipif(
        not on_postgres(),
        reason="counts connections in PostgreSQL's pg_stat_activity: runs in the PostgreSQL "
        "pass of `make test` (DAF_DRF_TEST_DATABASE=postgres)",
    ),
]

ROOT = Path(__file__).resolve().parents[1]
REQUESTS = int(os.environ.get("DAF_DRF_LIFECYCLE_REQUESTS", "400"))
# More requests at once than the entry's default thread pool (ENTRY_DEFAULT_THREADS) can hold
# connections for, even counting closing sessions twice (see `Combination.bound_during`).
CONCURRENCY = 32
# The documented default of `DAF_DRF["ASGI_THREAD_POOL_SIZE"]`, also the bound of the opt-out.
ENTRY_DEFAULT_THREADS = 8
APPLICATION_NAME = "daf_drf_lifecycle"
SETTLE_SECONDS = 5.0


@dataclass(frozen=True)
class Combination:
    handler: str  # "stock" or "entry"
    conn_max_age: int
    db_pool: int = 0  # max_size of Django's psycopg pool, 0: none
    # ASGI_THREAD_POOL_SIZE of daf_drf.asgi: None leaves it unset (the default), 0 opts out.
    thread_pool: int | None = None

    @property
    def label(self) -> str:
        handler = "Django stock" if self.handler == "stock" else "daf_drf.asgi"
        if self.handler == "entry":
            if self.thread_pool is None:
                handler += ", default pool"
            elif self.thread_pool == 0:
                handler += ", pool opt-out (0)"
            else:
                handler += f", thread pool {self.thread_pool}"
        pool = f"psycopg pool {self.db_pool}" if self.db_pool else "no psycopg pool"
        return f"{handler} | CONN_MAX_AGE={self.conn_max_age} | {pool}"

    @property
    def threads(self) -> int:
        """Threads that may hold a connection at once in the server process."""
        if self.handler == "stock":
            return CONCURRENCY  # one per request in flight
        # The entry's pool; the opt-out runs each request on a fresh thread, at most the
        # default pool size of them at once.
        return self.thread_pool or ENTRY_DEFAULT_THREADS

    def bound_after(self) -> int:
        """Connections allowed to stay open once the server is idle (one alias)."""
        if self.db_pool:
            return min(self.db_pool, self.threads)
        if self.conn_max_age:
            return self.threads
        return 0

    def bound_during(self) -> int:
        """Connections the server may list at any time: the pools, else the threads."""
        if self.db_pool:
            return min(self.db_pool, self.threads)
        # With CONN_MAX_AGE = 0 each request closes its connection, and the server lists that
        # session until its backend process has exited, while the next request on the same
        # thread already has a new one: up to two per thread. A request whose client
        # disconnected keeps its thread (and query) until the query returns.
        return self.threads if self.conn_max_age else 2 * self.threads


COMBINATIONS = [
    Combination("stock", 0),
    Combination("stock", 0, db_pool=8),
    Combination("entry", 0),
    Combination("entry", 60),
    Combination("entry", 0, db_pool=8),
    Combination("entry", 0, thread_pool=0),
    Combination("entry", 0, thread_pool=4),
    Combination("entry", 60, thread_pool=4),
    Combination("entry", 0, db_pool=8, thread_pool=4),
]


@dataclass
class Figures:
    before: int = 0
    peak: int = 0
    peak_idle_in_transaction: int = 0
    after: int = -1
    idle_in_transaction_after: int = -1
    statuses: Counter[str] = field(default_factory=Counter)
    unclean: int = 0
    cancelled: int = 0
    seconds: float = 0.0

    def row(self, label: str) -> str:
        return (
            f"{label:<66} before {self.before:>2}  peak {self.peak:>3}  after {self.after:>3}  "
            f"idle-in-tx during/after {self.peak_idle_in_transaction}/"
            f"{self.idle_in_transaction_after}  left-in-tx seen {self.unclean}  "
            f"statuses {dict(sorted(self.statuses.items()))}  cancelled {self.cancelled}  "
            f"({self.seconds:.1f}s)"
        )


class Sampler:
    """Polls pg_stat_activity every 10 ms for the server's connections (by application_name)."""

    QUERY = (
        "SELECT count(*), count(*) FILTER (WHERE state LIKE 'idle in transaction%%') "
        "FROM pg_stat_activity WHERE application_name = %s"
    )

    def __init__(self) -> None:
        import psycopg

        self.conn = psycopg.connect(
            postgres_dsn(), autocommit=True, application_name="daf_drf_lifecycle_monitor"
        )
        self.peak = 0
        self.peak_idle_in_transaction = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> tuple[int, int]:
        row = self.conn.execute(self.QUERY, (APPLICATION_NAME,)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def _run(self) -> None:
        while not self._stop.is_set():
            total, idle_in_tx = self.sample()
            self.peak = max(self.peak, total)
            self.peak_idle_in_transaction = max(self.peak_idle_in_transaction, idle_in_tx)
            self._stop.wait(0.01)

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def close(self) -> None:
        self.conn.close()


def _env(database: str, combination: Combination | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.lifecycle_project.settings",
        "DAF_DRF_TEST_DATABASE": "postgres",
        "DAF_DRF_TEST_DB_NAME": database,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if combination is not None:
        env["LIFECYCLE_CONN_MAX_AGE"] = str(combination.conn_max_age)
        env["LIFECYCLE_DB_POOL"] = str(combination.db_pool)
        env.pop("LIFECYCLE_THREAD_POOL", None)
        if combination.thread_pool is not None:
            env["LIFECYCLE_THREAD_POOL"] = str(combination.thread_pool)
    return env


def _manage(database: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "django", *args],
        cwd=ROOT,
        env=_env(database),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


SEED = """
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from tests.models import Author, Book
user = User.objects.create_user("lifecycle")
author = Author.objects.create(name="Ursula")
Book.objects.bulk_create(
    Book(title=f"Book {i}", isbn=f"{i:013d}", author=author) for i in range(20)
)
print(Token.objects.create(user=user).key)
"""


@dataclass
class Project:
    database: str
    token: str


@pytest.fixture(scope="module")
def project() -> Iterator[Project]:
    database = create_database("lifecycle")
    try:
        _manage(database, "migrate", "--run-syncdb", "--noinput", "-v", "0")
        token = _manage(database, "shell", "-c", SEED).strip().splitlines()[-1]
        yield Project(database, token)
    finally:
        drop_database(database)


class Server:
    def __init__(self, project: Project, combination: Combination, log: Path) -> None:
        self.port = free_port()
        self.log_path = log
        self._log = log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"tests.lifecycle_project.asgi:{combination.handler}",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--lifespan",
                "off",
                "--log-level",
                "warning",
                "--no-access-log",
                # Longer than any pause of a loaded client: a keep-alive connection the
                # server closes while the client reuses it would fail a request for nothing.
                "--timeout-keep-alive",
                "300",
            ],
            cwd=ROOT,
            env=_env(project.database, combination),
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )

    def wait_until_listening(self, timeout: float = 30.0) -> bool:
        """True once the port accepts connections; False if the process exited first."""
        try:
            wait_for_port(self.port, timeout, self.proc)
        except RuntimeError:
            if self.proc.poll() is not None:
                return False
            raise AssertionError(
                f"uvicorn did not listen within {timeout}s:\n{self.log()}"
            ) from None
        return True

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop(self.proc, timeout=15, group=True)
        self._log.close()


async def _cancelled_request(port: int, token: str) -> None:
    """GET /slow/ and disconnect 10 ms later, while its query runs."""
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /slow/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n\r\n".encode()
    )
    await writer.drain()
    await asyncio.sleep(0.01)
    writer.close()
    await writer.wait_closed()


PATHS = ["orm/", "orm/", "sync-hook/", "adata/", "orm/", "sync-hook/", "adata/", "boom/", "slow/"]


class Connection:
    """
    One keep-alive HTTP/1.1 connection to the server, as lean as a load generator must be:
    the server under test and this client share two cores, and a heavier client (httpx took
    3.7 ms of CPU a request here, more than the server's 2.6 ms) would measure itself.
    Reads `Content-Length` and chunked bodies; reconnects when the server closed.
    """

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str]]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Token {self.token}\r\n\r\n".encode()
        )
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {}
        for line in head[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await self.reader.readexactly(size + 2)
            await self.reader.readuntil(b"\r\n")
        if headers.get("connection") == "close":
            await self.close()
        return status, headers

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()
            self.writer = None


async def _drive(port: int, token: str, count: int, figures: Figures) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        connection = Connection(port, token)
        try:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                if i % 20 == 19:
                    await _cancelled_request(port, token)
                    figures.cancelled += 1
                    continue
                path = PATHS[i % len(PATHS)]
                status, headers = await asyncio.wait_for(connection.get(f"/{path}"), 60)
                kind = "boom" if path == "boom/" else "other"
                figures.statuses[f"{kind} {status}"] += 1
                if headers.get("x-clean") == "0":
                    figures.unclean += 1
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))


def _settle(sampler: Sampler, bound: int) -> tuple[int, int]:
    """Sample until the connections are within `bound` with none in a transaction."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        total, idle_in_tx = sampler.sample()
        if (total <= bound and idle_in_tx == 0) or time.monotonic() > deadline:
            return total, idle_in_tx
        time.sleep(0.05)


def _report(request: pytest.FixtureRequest, line: str) -> None:
    # Past pytest's output capture, so `make test` shows the figures of every combination.
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if capture is None or reporter is None:
        print(line)
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(line)


def _audit_rows(database: str) -> int:
    import psycopg

    dsn = postgres_dsn().rsplit("/", 1)[0] + f"/{database}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM tests_auditentry").fetchone()
    return int(row[0]) if row else -1


def _run(
    project: Project,
    combination: Combination,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    count: int = REQUESTS,
) -> Figures:
    figures = Figures()
    sampler = Sampler()
    server = Server(project, combination, tmp_path / "server.log")
    try:
        figures.before = sampler.sample()[0]
        assert server.wait_until_listening(), server.log()
        started = time.monotonic()
        with sampler:
            try:
                asyncio.run(_drive(server.port, project.token, count, figures))
            except Exception as exc:
                raise AssertionError(f"{exc!r}; server log:\n{server.log()[-3000:]}") from exc
            figures.after, figures.idle_in_transaction_after = _settle(
                sampler, combination.bound_after()
            )
        figures.seconds = time.monotonic() - started
        figures.peak = sampler.peak
        figures.peak_idle_in_transaction = sampler.peak_idle_in_transaction
        _report(request, f"\n[pg lifecycle x{count}] {figures.row(combination.label)}")
        return figures
    finally:
        server.stop()
        sampler.close()


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("combination", COMBINATIONS, ids=lambda c: c.label)
def test_connections_go_back_to_the_bound_and_no_transaction_is_left_open(
    project: Project, combination: Combination, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    figures = _run(project, combination, tmp_path, request)
    assert figures.before == 0
    assert figures.after <= combination.bound_after(), figures.row(combination.label)
    assert figures.idle_in_transaction_after == 0, figures.row(combination.label)
    assert figures.peak <= combination.bound_during(), figures.row(combination.label)
    assert figures.unclean == 0, figures.row(combination.label)
    sent = REQUESTS - figures.cancelled
    assert figures.statuses["boom 500"] == sum(
        1 for i in range(REQUESTS) if i % 20 != 19 and PATHS[i % len(PATHS)] == "boom/"
    )
    assert figures.statuses["other 200"] == sent - figures.statuses["boom 500"], figures.statuses
    assert _audit_rows(project.database) == 0  # every raising handler's write rolled back


def test_daf_drf_entry_opted_out_of_its_pool_refuses_persistent_connections(
    project: Project, tmp_path: Path
) -> None:
    sampler = Sampler()
    server = Server(project, Combination("entry", 60, thread_pool=0), tmp_path / "server.log")
    try:
        assert server.wait_until_listening() is False, "the entry started with CONN_MAX_AGE=60"
        assert "daf_drf.E053" in server.log()
        assert "ImproperlyConfigured" in server.log()
        assert sampler.sample() == (0, 0)  # refused before any connection
    finally:
        server.stop()
        sampler.close()


@pytest.mark.timeout(1800)
def test_djangos_stock_handler_with_persistent_connections_is_measured(
    project: Project, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Django's own behaviour, measured for docs/deployment.md and not held to a bound: its
    # per-request threads each keep a persistent connection that nothing reuses (Django's
    # docs tell ASGI deployments to disable persistent connections). daf_drf.asgi keeps them
    # to its pool's threads by default and refuses them when opted out (the tests above).
    # At most 2,000 requests: the server's connection slots are exhausted long before.
    figures = _run(project, Combination("stock", 60), tmp_path, request, min(REQUESTS, 2000))
    assert figures.unclean == 0, figures.row("stock, CONN_MAX_AGE=60")
    assert figures.idle_in_transaction_after == 0
