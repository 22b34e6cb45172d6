"""
Processes for the worker tests: a uvicorn server and a task worker on the test project, both
on a file SQLite database in a temporary directory (or, with DAF_DRF_TEST_DATABASE=postgres, a
PostgreSQL database of their own), each started here and stopped by PID.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.databases import create_database, drop_database, on_postgres
from tests.support.processes import free_port, running, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


class Project:
    """The test project configured for one backend ("db" or "rq") and one database file."""

    def __init__(self, tmp_dir: Path, backend: str, redis_url: str = "") -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.tasks_project.settings",
            "DAF_DRF_TASKS_DB": str(tmp_dir / "tasks.sqlite3"),
            "DAF_DRF_TASKS_BACKEND": backend,
            "DAF_DRF_TEST_REDIS_URL": redis_url,
            "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        }
        self.logs = tmp_dir
        self.pg_database = ""
        if on_postgres():
            # Server and worker share a PostgreSQL database of their own (see `close()`).
            self.pg_database = self.env["DAF_DRF_TEST_DB_NAME"] = create_database("tasks")

    def close(self) -> None:
        """Drop the PostgreSQL database, if any; call after the processes are stopped."""
        if self.pg_database:
            drop_database(self.pg_database)
            self.pg_database = ""

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "django", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout

    def create_users(self, *names: str) -> dict[str, str]:
        """Create users with DRF tokens; return `{name: "Token <key>"}`."""
        script = (
            "import json\n"
            "from django.contrib.auth.models import User\n"
            "from rest_framework.authtoken.models import Token\n"
            f"names = {list(names)!r}\n"
            "print(json.dumps({n: 'Token ' + Token.objects.create("
            "user=User.objects.create_user(n)).key for n in names}))\n"
        )
        return json.loads(self.manage("shell", "-c", script).strip().splitlines()[-1])  # type: ignore[no-any-return]

    @contextmanager
    def process(self, name: str, argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
        log = (self.logs / f"{name}.log").open("wb")
        try:
            with running(
                argv, env=self.env, cwd=ROOT, stdout=log, stderr=log, stop_timeout=15
            ) as proc:
                yield proc
        finally:
            log.close()

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    @contextmanager
    def server(self) -> Iterator[str]:
        """uvicorn on a free loopback port; yields its base URL."""
        port = free_port()
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "tests.tasks_project.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--log-level",
            "warning",
        ]
        with self.process("server", argv) as proc:
            try:
                wait_for_port(port, timeout=30, proc=proc)
            except RuntimeError:
                raise RuntimeError(f"uvicorn did not start:\n{self.log('server')}") from None
            yield f"http://127.0.0.1:{port}"

    def worker(self, *argv: str) -> Any:
        return self.process("worker", [sys.executable, "-m", "django", *argv])


def poll_status(
    client: httpx.Client, url: str, auth: str, until: set[str], timeout: float = 60.0
) -> dict[str, Any]:
    """GET the status URL until its status is in `until`; bounded by `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(url, headers={"Authorization": auth})
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        if body["status"] in until:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"task still {body['status']} after {timeout}s: {body}")
        time.sleep(0.2)
