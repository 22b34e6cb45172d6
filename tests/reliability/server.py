"""Start the suite's Django project under a real uvicorn on 127.0.0.1, and stop it by PID."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.databases import create_database, drop_database, on_postgres
from tests.support.processes import free_port, start, stop

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: str = ""

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def log(self) -> str:
        return Path(self.log_path).read_text(errors="replace")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))


@contextmanager
def serve(
    tmp: Path,
    extra_env: dict[str, str] | None = None,
    workers: int = 1,
    uvicorn_args: tuple[str, ...] = (),
    migrate: bool = True,
) -> Iterator[Server]:
    """Migrate a fresh database (SQLite file, or PostgreSQL database) and serve
    `tests.reliability` under uvicorn."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "tests.reliability.settings",
        "RELIABILITY_DB": str(tmp / "db.sqlite3"),
        "RELIABILITY_MARKS": str(tmp / "marks"),
        **(extra_env or {}),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    (tmp / "marks").mkdir(exist_ok=True)
    pg_database = ""
    if migrate and on_postgres():
        # A PostgreSQL database of this server's own, dropped when it stops.
        pg_database = env["DAF_DRF_TEST_DB_NAME"] = create_database("reliability")
    if migrate:
        subprocess.run(
            [sys.executable, "-m", "django", "migrate", "--run-syncdb", "-v0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
        )
    log = open(tmp / "server.log", "wb")  # noqa: SIM115  (closed in `finally`)
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "django.core.asgi:get_asgi_application",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        *uvicorn_args,
    ]
    try:
        try:
            proc = start(
                argv,
                port,
                timeout=30,
                group=True,
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        except RuntimeError:
            raise RuntimeError((tmp / "server.log").read_text()) from None
        try:
            yield Server(f"http://127.0.0.1:{port}", port, proc, str(tmp / "server.log"))
        finally:
            stop(proc, timeout=15, group=True)
    finally:
        log.close()
        if pg_database:
            drop_database(pg_database)
