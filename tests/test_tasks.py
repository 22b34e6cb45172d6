"""
daf_drf.tasks in one process: 202 + Location, the status view and its permissions, bad
arguments, thread hops, fire_and_forget and the system checks.

Requests go through Django's async handler (`AsyncClient`). The worker runs are in
test_tasks_workers.py, RQ in process in test_tasks_rq.py.
"""

from __future__ import annotations

import asyncio
import gc
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import path
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.response import Response

import daf_drf.tasks as tasks_module
from daf_drf._tasks_compat import TASKS_MODULE
from daf_drf.checks.tasks import (
    check_fire_and_forget_limit,
    check_task_backends,
    check_task_status_url,
)
from daf_drf.tasks import (
    TaskArgumentError,
    TaskStatusView,
    aenqueue,
    fire_and_forget,
    make_status_token,
)
from daf_drf.views import APIView
from tests.support.hops import count_hops
from tests.tasks_project.backends import AsyncMemoryBackend
from tests.tasks_project.tasks import add, echo

IMMEDIATE = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
NATIVE = {"default": {"BACKEND": "tests.tasks_project.backends.AsyncMemoryBackend"}}


class TaskViewTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.alice = User.objects.create_user("alice")
        cls.bob = User.objects.create_user("bob")
        cls.alice_auth = f"Token {Token.objects.create(user=cls.alice).key}"
        cls.bob_auth = f"Token {Token.objects.create(user=cls.bob).key}"

    async def post(self, url: str, data: dict[str, Any], auth: str | None = None) -> Any:
        headers = {"Authorization": auth or self.alice_auth}
        return await self.async_client.post(
            url, data, content_type="application/json", headers=headers
        )

    async def get(self, url: str, auth: str | None = None) -> Any:
        headers = {"Authorization": auth} if auth else {}
        return await self.async_client.get(url, headers=headers)


@override_settings(ROOT_URLCONF="tests.tasks_project.urls", TASKS=DATABASE)
class DatabaseBackendEnqueueTests(TaskViewTestCase):
    async def test_enqueue_answers_202_with_location_of_the_status_endpoint(self) -> None:
        response = await self.post("/add/", {"a": 2, "b": 3})
        assert response.status_code == 202
        body = response.json()
        assert response["Location"] == f"http://testserver/tasks/{body['id']}/"
        assert (body["task"], body["status"]) == ("add", "READY")

    async def test_enqueue_stores_the_task_for_the_worker(self) -> None:
        from django_tasks_db.models import DBTaskResult

        body = (await self.post("/add/", {"a": 2, "b": 3})).json()
        row = await DBTaskResult.objects.aget(id=body["task_id"])
        assert row.args_kwargs == {"args": [2, 3], "kwargs": {}}
        assert row.task_path == "tests.tasks_project.tasks.add"

    async def test_owner_reads_a_pending_task_without_result(self) -> None:
        location = (await self.post("/add/", {"a": 2, "b": 3}))["Location"]
        response = await self.get(location, self.alice_auth)
        assert response.status_code == 200
        assert response.json()["status"] == "READY"
        assert "result" not in response.json()

    async def test_another_users_task_is_404_not_403(self) -> None:
        location = (await self.post("/add/", {"a": 2, "b": 3}))["Location"]
        response = await self.get(location, self.bob_auth)
        assert response.status_code == 404

    async def test_unknown_id_is_404(self) -> None:
        response = await self.get("/tasks/not-a-task/", self.alice_auth)
        assert response.status_code == 404

    async def test_tampered_id_is_404(self) -> None:
        body = (await self.post("/add/", {"a": 2, "b": 3})).json()
        tampered = body["id"][:-2] + ("AA" if not body["id"].endswith("AA") else "BB")
        response = await self.get(f"/tasks/{tampered}/", self.alice_auth)
        assert response.status_code == 404

    async def test_validly_signed_id_of_a_missing_task_is_404(self) -> None:
        body = (await self.post("/add/", {"a": 2, "b": 3})).json()
        from django_tasks_db.models import DBTaskResult

        await DBTaskResult.objects.filter(id=body["task_id"]).adelete()
        response = await self.get(f"/tasks/{body['id']}/", self.alice_auth)
        assert response.status_code == 404

    async def test_status_requires_authentication(self) -> None:
        location = (await self.post("/add/", {"a": 2, "b": 3}))["Location"]
        response = await self.get(location)
        assert response.status_code == 401

    async def test_unserializable_argument_is_503_and_logged_when_debug_is_false(self) -> None:
        with self.assertLogs("daf_drf.tasks", "ERROR") as logs:
            response = await self.post("/echo-datetime/", {})
        assert response.status_code == 503
        assert response.json()["detail"] == "The task could not be queued. Try again later."
        assert "kwargs['when'] is a datetime.datetime" in logs.output[0]
        assert logs.records[0].exc_info is not None

    @override_settings(DEBUG=True)
    async def test_unserializable_argument_is_named_in_the_response_when_debug_is_true(
        self,
    ) -> None:
        with self.assertLogs("daf_drf.tasks", "ERROR"):
            response = await self.post("/echo-datetime/", {})
        assert response.status_code == 503
        assert "kwargs['when'] is a datetime.datetime" in response.json()["detail"]

    async def test_unserializable_argument_enqueues_nothing(self) -> None:
        from django_tasks_db.models import DBTaskResult

        with self.assertLogs("daf_drf.tasks", "ERROR"):
            await self.post("/echo-datetime/", {})
        assert await DBTaskResult.objects.acount() == 0

    async def test_enqueue_on_the_database_backend_makes_exactly_one_thread_hop(self) -> None:
        with count_hops() as hops:
            await aenqueue(add, 1, 2)
        assert len(hops) == 1


@override_settings(ROOT_URLCONF="tests.tasks_project.urls", TASKS=IMMEDIATE)
class ImmediateBackendTests(TaskViewTestCase):
    async def test_result_of_a_finished_task_is_reported_to_its_owner(self) -> None:
        location = (await self.post("/add/", {"a": 2, "b": 3}))["Location"]
        body = (await self.get(location, self.alice_auth)).json()
        assert (body["status"], body["result"]) == ("SUCCESSFUL", 5)

    async def test_failed_task_hides_the_traceback_when_debug_is_false(self) -> None:
        location = (await self.post("/explode/", {"reason": "db password"}))["Location"]
        response = await self.get(location, self.alice_auth)
        body = response.json()
        assert body["status"] == "FAILED"
        assert body["error"] == {"detail": "The task failed."}
        assert "db password" not in response.content.decode()

    @override_settings(DEBUG=True)
    async def test_failed_task_shows_exception_and_traceback_when_debug_is_true(self) -> None:
        location = (await self.post("/explode/", {"reason": "db password"}))["Location"]
        error = (await self.get(location, self.alice_auth)).json()["error"]
        assert error["exception_class"] == "builtins.ValueError"
        assert "internal detail: db password" in error["traceback"]

    async def test_another_users_finished_task_is_404(self) -> None:
        location = (await self.post("/add/", {"a": 2, "b": 3}))["Location"]
        assert (await self.get(location, self.bob_auth)).status_code == 404

    async def test_an_overridden_permission_may_query_the_orm(self) -> None:
        # The override runs by the hook rule (a thread hop), never on the loop.
        task_id = (await self.post("/add/", {"a": 2, "b": 3})).json()["id"]
        assert (await self.get(f"/staff-tasks/{task_id}/", self.bob_auth)).status_code == 404
        await User.objects.filter(pk=self.bob.pk).aupdate(is_staff=True)
        response = await self.get(f"/staff-tasks/{task_id}/", self.bob_auth)
        assert response.status_code == 200
        assert response.json()["result"] == 5


@override_settings(ROOT_URLCONF="tests.tasks_project.urls", TASKS=NATIVE)
class NativeAsyncBackendTests(TaskViewTestCase):
    async def test_enqueue_on_a_native_async_backend_makes_no_thread_hop(self) -> None:
        with count_hops() as hops:
            result = await aenqueue(add, 1, 2)
        assert hops == []
        assert result.id in AsyncMemoryBackend.results

    async def test_status_of_a_task_enqueued_elsewhere_in_the_process(self) -> None:
        result = await aenqueue(add, 1, 2)
        token = make_status_token(result, str(self.alice.pk))
        response = await self.get(f"/tasks/{token}/", self.alice_auth)
        assert response.json()["task_id"] == result.id


class ArgumentCheckTests(SimpleTestCase):
    async def assert_refused(self, message: str, *args: Any, **kwargs: Any) -> None:
        with self.assertRaisesMessage(TaskArgumentError, message):
            await aenqueue(echo, *args, **kwargs)

    async def test_nested_decimal_is_named_by_its_path(self) -> None:
        await self.assert_refused(
            "args[0]['items'][1] is a decimal.Decimal", {"items": [1, Decimal("2.5")]}
        )

    async def test_bytes_are_refused_instead_of_silently_decoded(self) -> None:
        await self.assert_refused("kwargs['blob'] is a builtins.bytes", blob=b"x")

    async def test_non_string_dict_keys_are_refused(self) -> None:
        await self.assert_refused("args[0] key 1 is a builtins.int", {1: "one"})

    async def test_nan_is_refused(self) -> None:
        await self.assert_refused("args[0] is a builtins.float", float("nan"))

    async def test_model_instance_message_suggests_a_primary_key(self) -> None:
        await self.assert_refused("a primary key for a model instance", User(pk=1))

    async def test_error_is_a_type_error(self) -> None:
        with pytest.raises(TypeError):
            await aenqueue(echo, timezone.now())

    async def test_non_task_is_a_type_error_naming_the_function(self) -> None:
        with self.assertRaisesMessage(TypeError, "daf_drf.tasks.aenqueue() takes a task"):
            await aenqueue(print, 1)  # type: ignore[arg-type]


# --- fire_and_forget ---------------------------------------------------------------------------

events: dict[str, asyncio.Event] = {}


async def wait_for_gate() -> None:
    await events["gate"].wait()
    events["done"].set()


async def fail_loudly() -> None:
    raise RuntimeError("warm-up failed")


class FireAndForgetView(APIView):
    async def post(self, request: Any) -> Response:
        fire_and_forget(wait_for_gate())
        return Response(status=204)


sent: list[str] = []
seen_at_start: list[list[str]] = []


async def record_what_was_sent() -> None:
    seen_at_start.append(list(sent))
    events["done"].set()


class FireAfterResponseView(APIView):
    async def post(self, request: Any) -> Response:
        response = Response({"ok": True})
        fire_and_forget(record_what_was_sent(), after=response)
        return response


urlpatterns = [
    path("fire/", FireAndForgetView.as_view()),
    path("fire-after/", FireAfterResponseView.as_view()),
]


async def call_asgi_handler(path: str) -> None:
    """POST `path` through Django's real ASGIHandler, recording sent message types in `sent`."""
    from django.core.handlers.asgi import ASGIHandler

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    body_sent = False
    never = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await never.wait()  # no disconnect: the handler cancels this listener when done
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["type"] + ("" if message.get("more_body") else ":last"))

    await ASGIHandler()(scope, receive, send)


class FireAfterResponseTests(SimpleTestCase):
    # Django's real ASGIHandler sends request_started/request_finished, whose receivers
    # (close_old_connections) touch the database connections.
    databases = {"default"}

    def setUp(self) -> None:
        events.clear()
        sent.clear()
        seen_at_start.clear()

    @override_settings(ROOT_URLCONF="tests.test_tasks")
    async def test_with_after_it_starts_once_the_response_was_sent(self) -> None:
        events["done"] = asyncio.Event()
        await call_asgi_handler("/fire-after/")
        await asyncio.wait_for(events["done"].wait(), timeout=5)
        assert sent[-1] == "http.response.body:last"
        assert seen_at_start == [sent]


class FireAndForgetTests(SimpleTestCase):
    def setUp(self) -> None:
        events.clear()
        sent.clear()
        seen_at_start.clear()

    @override_settings(ROOT_URLCONF="tests.test_tasks")
    async def test_response_is_sent_without_waiting_for_the_coroutine(self) -> None:
        events["gate"], events["done"] = asyncio.Event(), asyncio.Event()
        response = await self.async_client.post("/fire/")
        assert response.status_code == 204
        assert not events["done"].is_set()
        events["gate"].set()
        await asyncio.wait_for(events["done"].wait(), timeout=5)

    async def test_with_after_a_response_never_closed_drops_the_coroutine(self) -> None:
        response = Response({"ok": True})
        with self.assertLogs("daf_drf.tasks", "WARNING") as logs:
            background = fire_and_forget(fail_loudly(), after=response)
            del response
            gc.collect()
            await asyncio.wait([background])  # type: ignore[list-item]
        assert background is not None
        assert background.cancelled()
        assert "never closed; fail_loudly was not run" in logs.output[0]

    async def test_after_must_be_a_response(self) -> None:
        with self.assertRaisesMessage(TypeError, "takes the response the view returns"):
            fire_and_forget(fail_loudly(), after="response")  # type: ignore[arg-type]

    async def test_coroutine_finishes_although_the_caller_keeps_no_reference(self) -> None:
        events["gate"], events["done"] = asyncio.Event(), asyncio.Event()
        fire_and_forget(wait_for_gate())
        await asyncio.sleep(0)
        gc.collect()
        events["gate"].set()
        await asyncio.wait_for(events["done"].wait(), timeout=5)

    async def test_failure_is_logged_with_its_traceback(self) -> None:
        with self.assertLogs("daf_drf.tasks", "ERROR") as logs:
            background = fire_and_forget(fail_loudly())
            await asyncio.wait([background])
        assert "fail_loudly failed" in logs.output[0]
        assert "RuntimeError: warm-up failed" in logs.output[0]

    @override_settings(DAF_DRF={"FIRE_AND_FORGET_LIMIT": 2})
    async def test_coroutine_beyond_the_limit_is_dropped_with_a_warning(self) -> None:
        events["gate"], events["done"] = asyncio.Event(), asyncio.Event()
        running = [fire_and_forget(wait_for_gate()) for _ in range(2)]
        with self.assertLogs("daf_drf.tasks", "WARNING") as logs:
            dropped = fire_and_forget(wait_for_gate())
        assert dropped is None
        assert "FIRE_AND_FORGET_LIMIT" in logs.output[0]
        events["gate"].set()
        await asyncio.wait(running)

    @override_settings(DAF_DRF={"FIRE_AND_FORGET_LIMIT": 1})
    async def test_a_finished_coroutine_frees_its_slot(self) -> None:
        events["gate"], events["done"] = asyncio.Event(), asyncio.Event()
        events["gate"].set()
        first = fire_and_forget(wait_for_gate())
        await asyncio.wait([first])
        second = fire_and_forget(wait_for_gate())
        assert second is not None
        await asyncio.wait([second])

    def test_works_on_every_new_event_loop(self) -> None:
        ran: list[int] = []

        async def record() -> None:
            ran.append(1)

        async def main() -> None:
            await asyncio.wait([fire_and_forget(record())])

        asyncio.run(main())
        asyncio.run(main())
        assert ran == [1, 1]

    def test_without_a_running_loop_is_a_runtime_error(self) -> None:
        with self.assertRaisesMessage(RuntimeError, "running event loop"):
            fire_and_forget(fail_loudly())

    def test_a_coroutine_function_instead_of_a_coroutine_is_a_type_error(self) -> None:
        with self.assertRaisesMessage(TypeError, "takes a coroutine object"):
            fire_and_forget(fail_loudly)  # type: ignore[arg-type]


# --- system checks and public surface -----------------------------------------------------------


class MisnamedStatusURLs:
    urlpatterns = [path("jobs/<str:task_id>/", TaskStatusView.as_view(), name="job-status")]


class TaskChecksTests(SimpleTestCase):
    def test_positive_fire_and_forget_limit_passes(self) -> None:
        with override_settings(DAF_DRF={"FIRE_AND_FORGET_LIMIT": 5}):
            assert check_fire_and_forget_limit() == []

    def test_non_positive_or_non_integer_limit_is_e060(self) -> None:
        for bad in (0, -1, "10", True, 2.5):
            with self.subTest(bad=bad), override_settings(DAF_DRF={"FIRE_AND_FORGET_LIMIT": bad}):
                assert [m.id for m in check_fire_and_forget_limit()] == ["daf_drf.E060"]

    @override_settings(ROOT_URLCONF="tests.tasks_project.urls", TASKS=IMMEDIATE, DEBUG=False)
    def test_backend_without_results_in_production_is_w060(self) -> None:
        assert [m.id for m in check_task_backends()] == ["daf_drf.W060"]

    @override_settings(ROOT_URLCONF="tests.tasks_project.urls", TASKS=DATABASE, DEBUG=False)
    def test_backend_with_results_passes(self) -> None:
        assert check_task_backends() == []

    @override_settings(ROOT_URLCONF="tests.tasks_project.urls", TASKS=IMMEDIATE, DEBUG=True)
    def test_backend_without_results_in_development_passes(self) -> None:
        assert check_task_backends() == []

    @override_settings(ROOT_URLCONF="tests.tasks_project.urls")
    def test_status_route_from_the_helper_passes(self) -> None:
        assert check_task_status_url() == []

    @override_settings(ROOT_URLCONF=MisnamedStatusURLs)
    def test_status_view_routed_under_another_name_is_w061(self) -> None:
        assert [m.id for m in check_task_status_url()] == ["daf_drf.W061"]

    @override_settings(ROOT_URLCONF="tests.urls", TASKS=IMMEDIATE, DEBUG=False)
    def test_a_project_without_the_status_view_gets_no_task_warnings(self) -> None:
        assert check_task_status_url() == []
        assert check_task_backends() == []


def test_public_names_are_pinned() -> None:
    assert sorted(tasks_module.__all__) == sorted(
        [
            "Task",
            "TaskArgumentError",
            "TaskNotQueued",
            "TaskResult",
            "TaskResultStatus",
            "TaskStatusView",
            "TaskStoreUnavailable",
            "aenqueue",
            "default_task_backend",
            "enqueue_response",
            "fire_and_forget",
            "make_status_token",
            "read_status_token",
            "task",
            "task_backends",
            "task_result_data",
            "task_status_urlpatterns",
            "uses_native_aenqueue",
        ]
    )
