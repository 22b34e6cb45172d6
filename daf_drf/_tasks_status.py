"""
The status side of `daf_drf.tasks`: signed status ids, result bodies and `TaskStatusView`.

Everything here is public through `daf_drf.tasks`; this module only keeps the enqueue path and
the status path apart.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from threading import Lock
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.http import HttpRequest
from django.urls import URLPattern, path
from redis.exceptions import RedisError
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from daf_drf._tasks_compat import (
    RESULT_DOES_NOT_EXIST,
    TaskResult,
    TaskResultStatus,
    status_value,
    task_backends,
)
from daf_drf.hooks import call_hook, inline_safe
from daf_drf.settings import daf_settings
from daf_drf.views import APIView

# The public module's logger: both halves log as `daf_drf.tasks`.
logger = logging.getLogger("daf_drf.tasks")

_TOKEN_SALT = "daf_drf.tasks.status"
# Results kept in process for backends that cannot fetch results (immediate, dummy).
_LOCAL_RESULTS_SIZE = 1000
# What a backend outage looks like while enqueueing or reading a result.
BACKEND_ERRORS = (DatabaseError, OSError, RedisError)


async def owner_key(request: Request | HttpRequest) -> str | None:
    """The primary key of the caller (as a string), or `None` when it is anonymous."""
    auser = getattr(request, "auser", None)
    user = await auser() if auser is not None else request.user
    if user is None or not user.is_authenticated:
        return None
    return str(user.pk)


def make_status_token(result: TaskResult[..., Any], owner_key: str | None) -> str:
    """
    The id of a task in its status URL: the task id, backend alias and owner, signed.

    Ownership travels in the token instead of a table, so it works on every backend, costs
    no query and no thread hop, and cannot be forged without `SECRET_KEY`.
    """
    payload = {"i": str(result.id), "b": result.backend, "u": owner_key}
    return signing.dumps(payload, salt=_TOKEN_SALT, compress=True)


def read_status_token(token: str) -> dict[str, Any] | None:
    """The payload of a token from `make_status_token`, or `None` if it is not one."""
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT)
    except signing.BadSignature:
        return None
    return payload if isinstance(payload, dict) else None


def task_result_data(result: TaskResult[..., Any], token: str) -> dict[str, Any]:
    """
    A task result as a response body: id, status, timestamps, and `result` or `error`.

    A failure's exception class and traceback are included only when `DEBUG = True`.
    """
    state = status_value(result.status)
    data: dict[str, Any] = {
        "id": token,
        "task_id": str(result.id),
        "task": result.task.name,
        "status": state,
        "enqueued_at": result.enqueued_at,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
    }
    if state == TaskResultStatus.SUCCESSFUL.value:
        data["result"] = result.return_value
    elif state == TaskResultStatus.FAILED.value:
        error: dict[str, str] = {"detail": "The task failed."}
        if settings.DEBUG and result.errors:
            error["exception_class"] = result.errors[-1].exception_class_path
            error["traceback"] = result.errors[-1].traceback
        data["error"] = error
    return data


class TaskStatusView(APIView):
    """
    Report a task's status, result or error by the id of its status URL.

    By default the caller must be authenticated and must be the user who enqueued the task. An
    unknown id and another user's id are both `404 Not Found`, so ids cannot be probed.
    Override `has_task_permission()` to share tasks (with staff, say), or set
    `permission_classes = [AllowAny]` to let anonymous callers read tasks enqueued anonymously
    (the signed id then works as a bearer token).

    Usage:

        urlpatterns = [..., *task_status_urlpatterns()]
    """

    permission_classes = [IsAuthenticated]

    async def get(self, request: Request, task_id: str) -> Response:
        ref = read_status_token(task_id)
        if ref is None:
            raise NotFound()
        # A project's override may query the ORM (groups, sharing): the hook rule runs it in a
        # thread hop; the default below is pure and runs inline.
        owner = await owner_key(request)
        if not await call_hook(self, self.has_task_permission, request, ref, owner):
            raise NotFound()
        result = await self.aget_task_result(ref["b"], ref["i"])
        return Response(task_result_data(result, task_id))

    @inline_safe
    def has_task_permission(self, request: Request, ref: dict[str, Any], owner: str | None) -> bool:
        """Whether the caller (`owner`, a user pk or `None`) may read the task `ref`."""
        return ref.get("u") == owner

    async def aget_task_result(self, alias: str, task_id: str) -> TaskResult[..., Any]:
        """Load the result from its backend (one thread hop), or 404 if it is gone."""
        try:
            backend = task_backends[alias]
        except ImproperlyConfigured as exc:  # The alias left TASKS since the enqueue.
            raise NotFound() from exc
        if not getattr(backend, "supports_get_result", False):
            local = local_results.get(alias, task_id)
            if local is None:
                raise NotFound()
            return local
        try:
            return await backend.aget_result(task_id)
        except RESULT_DOES_NOT_EXIST as exc:
            raise NotFound() from exc
        except BACKEND_ERRORS as exc:
            logger.error("Task %s: the task backend %r failed.", task_id, alias, exc_info=True)
            raise TaskStoreUnavailable() from exc


class TaskStoreUnavailable(APIException):
    """The task backend could not be reached to read a result."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The task status is unavailable. Try again later."
    default_code = "task_status_unavailable"


def task_status_urlpatterns(
    prefix: str = "tasks/", view: type[TaskStatusView] = TaskStatusView
) -> list[URLPattern]:
    """The status route, named `DAF_DRF["TASK_STATUS_URL_NAME"]`, for a URLconf."""
    route = f"{prefix}<str:task_id>/"
    return [path(route, view.as_view(), name=daf_settings.TASK_STATUS_URL_NAME)]


class _LocalResults:
    """Bounded in-process store for results of backends that cannot fetch results."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], TaskResult[..., Any]] = OrderedDict()
        self._lock = Lock()

    def put(self, alias: str, result: TaskResult[..., Any]) -> None:
        with self._lock:
            self._items[(alias, str(result.id))] = result
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, alias: str, task_id: str) -> TaskResult[..., Any] | None:
        with self._lock:
            return self._items.get((alias, task_id))


local_results = _LocalResults(_LOCAL_RESULTS_SIZE)
