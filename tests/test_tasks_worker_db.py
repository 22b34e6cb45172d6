"""
End to end on the database backend (django-tasks-db): an async endpoint served by uvicorn
enqueues, the backend's own `db_worker` process runs the task, and the status endpoint goes
from READY to SUCCESSFUL with the result. Server and worker share a file SQLite database in a
temporary directory and are stopped by PID.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.tasks_project.harness import Project, poll_status

pytestmark = pytest.mark.e2e

WORKER = ["db_worker", "--interval", "0.1", "--no-startup-delay", "--no-reload"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, dict[str, str]]]:
    project = Project(tmp_path_factory.mktemp("tasks_db"), "db")
    project.manage("migrate", "--noinput", "-v", "0")
    return project, project.create_users("alice", "bob")


@pytest.fixture(scope="module")
def server(project: tuple[Project, dict[str, str]]) -> Iterator[httpx.Client]:
    with project[0].server() as base_url, httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


def test_status_goes_from_ready_to_successful_once_the_worker_runs_the_task(
    project: tuple[Project, dict[str, str]], server: httpx.Client
) -> None:
    proj, users = project
    response = server.post(
        "/add/", json={"a": 2, "b": 3}, headers={"Authorization": users["alice"]}
    )
    assert response.status_code == 202, response.text
    location = response.headers["Location"]

    pending = server.get(location, headers={"Authorization": users["alice"]}).json()
    assert pending["status"] == "READY"
    assert "result" not in pending

    with proj.worker(*WORKER):
        done = poll_status(server, location, users["alice"], {"SUCCESSFUL", "FAILED"})
    assert done["status"] == "SUCCESSFUL", proj.log("worker")
    assert done["result"] == 5
    assert done["finished_at"] is not None


def test_a_failing_task_is_failed_without_its_traceback(
    project: tuple[Project, dict[str, str]], server: httpx.Client
) -> None:
    proj, users = project
    response = server.post(
        "/explode/", json={"reason": "secret"}, headers={"Authorization": users["alice"]}
    )
    location = response.headers["Location"]
    with proj.worker(*WORKER):
        done = poll_status(server, location, users["alice"], {"SUCCESSFUL", "FAILED"})
    assert done["status"] == "FAILED"
    assert done["error"] == {"detail": "The task failed."}
    assert "secret" not in server.get(location, headers={"Authorization": users["alice"]}).text


def test_another_user_gets_404_for_the_task(
    project: tuple[Project, dict[str, str]], server: httpx.Client
) -> None:
    _, users = project
    response = server.post(
        "/add/", json={"a": 1, "b": 1}, headers={"Authorization": users["alice"]}
    )
    other = server.get(response.headers["Location"], headers={"Authorization": users["bob"]})
    assert other.status_code == 404


def test_worker_is_stopped_by_pid(project: tuple[Project, dict[str, str]]) -> None:
    proj, _ = project
    with proj.worker(*WORKER) as proc:
        assert proc.poll() is None
    assert proc.returncode is not None
    assert Path(f"/proc/{proc.pid}").exists() is False
