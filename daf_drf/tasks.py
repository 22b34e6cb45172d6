"""
Background work from async views, on Django's Tasks framework.

Long or retryable work does not belong in a request. Define it as a Django task, enqueue it from
an async handler and answer `202 Accepted` with a `Location` the client can poll:

    from daf_drf.tasks import enqueue_response, task

    @task
    def build_report(account_id: int) -> dict:
        ...

    class ReportView(APIView):
        async def post(self, request):
            return await enqueue_response(build_report, request.data["account"], request=request)

    urlpatterns = [path("reports/", ReportView.as_view()), *task_status_urlpatterns()]

The task runs on whatever `TASKS` configures: the database backend (`django-tasks-db`), RQ on
Redis (`django-tasks-rq`), or the immediate backend in development. `django.tasks` is used on
Django 6.0+, the `django-tasks` backport on 5.2; `task`, `Task`, `TaskResult`, `TaskResultStatus`
and `task_backends` are re-exported here so a project imports them from one place.

Work that may be lost (a cache warm-up, a metric) can skip the queue: `fire_and_forget(coro)`.
See docs/tasks.md for when to use which.
"""

from __future__ import annotations

import logging
from typing import Any, ParamSpec, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from daf_drf._background import fire_and_forget
from daf_drf._tasks_compat import (
    Task,
    TaskResult,
    TaskResultStatus,
    default_task_backend,
    find_unserializable,
    task,
    task_backends,
)
from daf_drf._tasks_status import (
    BACKEND_ERRORS,
    TaskStatusView,
    TaskStoreUnavailable,
    local_results,
    make_status_token,
    owner_key,
    read_status_token,
    task_result_data,
    task_status_urlpatterns,
)
from daf_drf.settings import daf_settings

__all__ = [
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

logger = logging.getLogger("daf_drf.tasks")

P = ParamSpec("P")
T = TypeVar("T")


class TaskArgumentError(TypeError):
    """An argument of an enqueued task cannot be stored as JSON by the task backend."""


class TaskNotQueued(APIException):
    """The task could not be enqueued; the reason is in the server log."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The task could not be queued. Try again later."
    default_code = "task_not_queued"


def uses_native_aenqueue(backend: object) -> bool:
    """
    Whether daf_drf awaits `backend.aenqueue()` directly instead of `enqueue()` in one hop.

    A backend opts in with `supports_native_aenqueue = True` when its `aenqueue` makes no
    thread hop. None of the stock backends can: the database backend's `aenqueue` makes two
    (the insert, then the `task_enqueued` signal's sync receivers), the others wrap `enqueue`
    in `sync_to_async`. For them one hop around the sync `enqueue` is the cheapest path.
    """
    return bool(getattr(backend, "supports_native_aenqueue", False))


async def aenqueue(task_obj: Task[P, T], /, *args: P.args, **kwargs: P.kwargs) -> TaskResult[P, T]:
    """
    Enqueue `task_obj(*args, **kwargs)` from async code and return its `TaskResult`.

    Arguments are checked before the backend sees them: anything JSON cannot carry exactly
    raises `TaskArgumentError` naming the argument. The enqueue itself makes no thread hop
    when the backend supports native async enqueueing, and exactly one otherwise.
    """
    get_backend = getattr(task_obj, "get_backend", None)
    if get_backend is None:
        raise TypeError(
            f"daf_drf.tasks.aenqueue() takes a task (a function decorated with @task), "
            f"not {type(task_obj).__name__}."
        )
    _check_arguments(task_obj, args, kwargs)
    backend = get_backend()
    result: TaskResult[P, T]
    if uses_native_aenqueue(backend):
        result = await backend.aenqueue(task_obj, args, kwargs)
    else:
        result = await sync_to_async(backend.enqueue)(task_obj, args, kwargs)
    if not getattr(backend, "supports_get_result", False):
        local_results.put(backend.alias, result)
    return result


def _check_arguments(
    task_obj: Task[P, T], args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    found = find_unserializable(list(args), "args") or find_unserializable(kwargs, "kwargs")
    if found is None:
        return
    where, kind = found
    raise TaskArgumentError(
        f"Task {task_obj.module_path!r} cannot be enqueued: {where} is a "
        f"{kind.__module__}.{kind.__qualname__}, which the task backend cannot store as JSON. "
        "Pass JSON values (str, int, float, bool, None, lists, dicts with str keys), "
        "e.g. an ISO string for a datetime or a primary key for a model instance."
    )


async def enqueue_response(
    task_obj: Task[..., Any], /, *args: object, request: Request, **kwargs: object
) -> Response:
    """
    Enqueue a task and answer `202 Accepted` with a `Location` to its status endpoint.

    The body is `task_result_data()` of the new result. Bad arguments and backend outages are
    logged on `daf_drf.tasks` with a traceback and answered with a 503 `TaskNotQueued`,
    never a 500; with `DEBUG = True` its `detail` says what was wrong.
    """
    try:
        result = await aenqueue(task_obj, *args, **kwargs)
    except (TaskArgumentError, *BACKEND_ERRORS) as exc:
        logger.error("Task %s was not enqueued: %s", task_obj.module_path, exc, exc_info=True)
        raise TaskNotQueued(str(exc) if settings.DEBUG else None) from exc
    token = make_status_token(result, await owner_key(request))
    url_name = daf_settings.TASK_STATUS_URL_NAME
    try:
        location = reverse(url_name, kwargs={"task_id": token}, request=request)
    except NoReverseMatch as exc:
        raise ImproperlyConfigured(
            f'DAF_DRF["TASK_STATUS_URL_NAME"] is {url_name!r}, which is not a URL name. '
            "Add `*task_status_urlpatterns()` to your URLconf (see daf_drf.W061)."
        ) from exc
    return Response(
        task_result_data(result, token),
        status=status.HTTP_202_ACCEPTED,
        headers={"Location": location},
    )
