"""
End to end on the RQ backend (django-tasks-rq) on the throwaway redis-server: an async
endpoint served by uvicorn enqueues, `rqworker` with django-tasks-rq's job class runs the
task, and the status endpoint goes from READY to SUCCESSFUL with the result. Tasks and
results live in Redis; users and tokens in a file SQLite database in a temporary directory.
Server and worker are stopped by PID.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import redis
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import SimpleTestCase, TestCase, override_settings
from rest_framework.authtoken.models import Token

from daf_drf.tasks import aenqueue, make_status_token
from tests.tasks_project.harness import Project, poll_status
from tests.tasks_project.tasks import add
from tests.test_tasks import count_thread_hops

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

WORKER = [
    "rqworker",
    "default",
    "--job-class",
    "django_tasks_rq.Job",
    "--worker-class",
    "rq.worker.SimpleWorker",
]


def rq_url(redis_url: str) -> str:
    """The run's redis-server, on a database of its own so RQ's keys stay out of other tests'."""
    return redis_url.rsplit("/", 1)[0] + "/7"


@pytest.fixture(scope="module")
def project(
    tmp_path_factory: pytest.TempPathFactory, redis_url: str
) -> Iterator[tuple[Project, dict[str, str]]]:
    project = Project(tmp_path_factory.mktemp("tasks_rq"), "rq", rq_url(redis_url))
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


@pytest.fixture
def rq_settings(redis_url: str) -> Iterator[None]:
    queues = {"default": {"URL": rq_url(redis_url)}}
    tasks = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    with override_settings(RQ_QUEUES=queues, TASKS=tasks):
        yield
    client = redis.Redis.from_url(rq_url(redis_url))
    client.flushdb()
    client.close()


@pytest.mark.usefixtures("rq_settings")
class RQEnqueueTests(SimpleTestCase):
    async def test_enqueue_on_rq_makes_exactly_one_thread_hop(self) -> None:
        with count_thread_hops() as hops:
            result = await aenqueue(add, 1, 2)
        assert len(hops) == 1
        fetched = await sync_to_async(add.get_backend().get_result)(result.id)
        assert fetched.args == [1, 2]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"  # nothing listens there once the socket is closed


RQ_TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}


@override_settings(ROOT_URLCONF="tests.tasks_project.urls", TASKS=RQ_TASKS)
class RQOutageTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        user = User.objects.create_user("alice")
        cls.auth = f"Token {Token.objects.create(user=user).key}"

    async def test_enqueue_while_redis_is_down_is_503_and_logged(self) -> None:
        with (
            override_settings(RQ_QUEUES={"default": {"URL": closed_port_url()}}),
            self.assertLogs("daf_drf.tasks", "ERROR") as logs,
        ):
            response = await self.async_client.post(
                "/add/",
                {"a": 1, "b": 2},
                content_type="application/json",
                headers={"Authorization": self.auth},
            )
        assert response.status_code == 503
        assert response.json()["detail"] == "The task could not be queued. Try again later."
        assert "was not enqueued" in logs.output[0]

    async def test_status_while_redis_is_down_is_503_and_logged(self) -> None:
        user = await User.objects.aget(username="alice")
        enqueued = SimpleNamespace(id="a" * 32, backend="default")
        token = make_status_token(enqueued, str(user.pk))  # type: ignore[arg-type]
        with (
            override_settings(RQ_QUEUES={"default": {"URL": closed_port_url()}}),
            self.assertLogs("daf_drf.tasks", "ERROR"),
        ):
            response = await self.async_client.get(
                f"/tasks/{token}/", headers={"Authorization": self.auth}
            )
        assert response.status_code == 503
        assert response.json()["detail"] == "The task status is unavailable. Try again later."
