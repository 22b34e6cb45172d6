"""
The RQ backend (django-tasks-rq) on the throwaway redis-server, in process: enqueueing from an
async view, and a Redis outage at enqueue time. The end-to-end runs with `rqworker` are in
tests/test_tasks_workers.py, next to the database backend's.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import redis
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import SimpleTestCase, TestCase, override_settings
from rest_framework.authtoken.models import Token

from daf_drf.tasks import aenqueue, make_status_token
from tests.support.hops import count_hops
from tests.support.processes import free_port
from tests.support.redis import rq_url
from tests.tasks_project.tasks import add

pytestmark = pytest.mark.redis


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
        with count_hops() as hops:
            result = await aenqueue(add, 1, 2)
        assert len(hops) == 1
        fetched = await sync_to_async(add.get_backend().get_result)(result.id)
        assert fetched.args == [1, 2]


def closed_port_url() -> str:
    port = free_port()
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
