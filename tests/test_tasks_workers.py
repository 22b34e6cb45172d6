"""
End to end on both real task backends: an async endpoint served by uvicorn enqueues, the
backend's own worker process runs the task, and the status endpoint goes from READY to
SUCCESSFUL with the result. Server and worker are stopped by PID.

- `db`: django-tasks-db; server and `db_worker` share a file SQLite database in a temporary
  directory, or on the PostgreSQL pass a database of their own on the throwaway server.
- `rq`: django-tasks-rq on the throwaway redis-server; `rqworker` with django-tasks-rq's job
  class; tasks and results in Redis, users and tokens in the same kind of database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.redis import rq_url
from tests.tasks_project.harness import Project, poll_status

# `database`: with DAF_DRF_TEST_DATABASE=postgres, server and worker share a PostgreSQL
# database of their own (tests/databases.py).
pytestmark = [pytest.mark.e2e, pytest.mark.database]

WORKERS = {
    "db": ["db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"],
    "rq": [
        "rqworker",
        "default",
        "--job-class",
        "django_tasks_rq.Job",
        "--worker-class",
        "rq.worker.SimpleWorker",
    ],
}


@dataclass
class Setup:
    project: Project
    users: dict[str, str]  # username -> Authorization header
    worker: list[str]


@pytest.fixture(scope="module", params=["db", pytest.param("rq", marks=pytest.mark.redis)])
def setup(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Setup]:
    backend = request.param
    extra = [rq_url(request.getfixturevalue("redis_url"))] if backend == "rq" else []
    with Project(tmp_path_factory.mktemp(f"tasks_{backend}"), backend, *extra) as project:
        project.manage("migrate", "--run-syncdb", "--noinput", "-v", "0")
        yield Setup(project, project.create_users("alice", "bob"), WORKERS[backend])


@pytest.fixture(scope="module")
def server(setup: Setup) -> Iterator[httpx.Client]:
    with setup.project.server() as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


def test_status_goes_from_ready_to_successful_once_the_worker_runs_the_task(
    setup: Setup, server: httpx.Client
) -> None:
    alice = {"Authorization": setup.users["alice"]}
    response = server.post("/add/", json={"a": 2, "b": 3}, headers=alice)
    assert response.status_code == 202, response.text
    location = response.headers["Location"]

    pending = server.get(location, headers=alice).json()
    assert pending["status"] == "READY"
    assert "result" not in pending

    with setup.project.worker(*setup.worker):
        done = poll_status(server, location, setup.users["alice"], {"SUCCESSFUL", "FAILED"})
    assert done["status"] == "SUCCESSFUL", setup.project.log("worker")
    assert done["result"] == 5
    assert done["finished_at"] is not None


def test_a_failing_task_is_failed_without_its_traceback(setup: Setup, server: httpx.Client) -> None:
    alice = {"Authorization": setup.users["alice"]}
    response = server.post("/explode/", json={"reason": "secret"}, headers=alice)
    location = response.headers["Location"]
    with setup.project.worker(*setup.worker):
        done = poll_status(server, location, setup.users["alice"], {"SUCCESSFUL", "FAILED"})
    assert done["status"] == "FAILED"
    assert done["error"] == {"detail": "The task failed."}
    assert "secret" not in server.get(location, headers=alice).text


def test_another_user_gets_404_for_the_task(setup: Setup, server: httpx.Client) -> None:
    response = server.post(
        "/add/", json={"a": 1, "b": 1}, headers={"Authorization": setup.users["alice"]}
    )
    other = server.get(response.headers["Location"], headers={"Authorization": setup.users["bob"]})
    assert other.status_code == 404


def test_worker_is_stopped_by_pid(setup: Setup) -> None:
    with setup.project.worker(*setup.worker) as proc:
        assert proc.poll() is None
    assert proc.returncode is not None
    assert Path(f"/proc/{proc.pid}").exists() is False
