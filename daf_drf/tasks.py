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
from collections import OrderedDict
from threading import Lock
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import checks, signing
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.urls import NoReverseMatch, URLPattern, path
from redis.exceptions import RedisError
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse

from daf_drf._background import fire_and_forget
from daf_drf._tasks_compat import (
    RESULT_DOES_NOT_EXIST,
    Task,
    TaskResult,
    TaskResultStatus,
    default_task_backend,
    find_unserializable,
    status_value,
    task,
    task_backends,
)
from daf_drf.hooks import call_hook, inline_safe
from daf_drf.settings import daf_settings
from daf_drf.views import APIView

__all__ = [
    "Task",
    "TaskArgumentError",
    "TaskNotQueued",
    "TaskResult",
    "TaskResultStatus",
    "TaskStatusView",
    "TaskStoreUnavailable",
    "aenqueue",
    "check_fire_and_forget_limit",
    "check_task_backends",
    "check_task_status_url",
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

_TOKEN_SALT = "daf_drf.tasks.status"
# Results kept in process for backends that cannot fetch results (immediate, dummy).
_LOCAL_RESULTS_SIZE = 1000
# What a backend outage looks like while enqueueing or reading a result.
_BACKEND_ERRORS = (DatabaseError, OSError, RedisError)


class TaskArgumentError(TypeError):
    """An argument of an enqueued task cannot be stored as JSON by the task backend."""


class TaskNotQueued(APIException):
    """The task could not be enqueued; the reason is in the server log."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The task could not be queued. Try again later."
    default_code = "task_not_queued"


def uses_native_aenqueue(backend: Any) -> bool:
    """
    Whether daf_drf awaits `backend.aenqueue()` directly instead of `enqueue()` in one hop.

    A backend opts in with `supports_native_aenqueue = True` when its `aenqueue` makes no
    thread hop. None of the stock backends can: the database backend's `aenqueue` makes two
    (the insert, then the `task_enqueued` signal's sync receivers), the others wrap `enqueue`
    in `sync_to_async`. For them one hop around the sync `enqueue` is the cheapest path.
    """
    return bool(getattr(backend, "supports_native_aenqueue", False))


async def aenqueue(task_obj: Task[..., Any], /, *args: Any, **kwargs: Any) -> TaskResult[..., Any]:
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
    if uses_native_aenqueue(backend):
        result = await backend.aenqueue(task_obj, args, kwargs)
    else:
        result = await sync_to_async(backend.enqueue)(task_obj, args, kwargs)
    if not getattr(backend, "supports_get_result", False):
        _local_results.put(backend.alias, result)
    return result  # type: ignore[no-any-return]


def _check_arguments(
    task_obj: Task[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
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
    task_obj: Task[..., Any], /, *args: Any, request: Any, **kwargs: Any
) -> Response:
    """
    Enqueue a task and answer `202 Accepted` with a `Location` to its status endpoint.

    The body is `task_result_data()` of the new result. Bad arguments and backend outages are
    logged on `daf_drf.tasks` with a traceback and answered with a 503 `TaskNotQueued`,
    never a 500; with `DEBUG = True` its `detail` says what was wrong.
    """
    try:
        result = await aenqueue(task_obj, *args, **kwargs)
    except (TaskArgumentError, *_BACKEND_ERRORS) as exc:
        logger.error("Task %s was not enqueued: %s", task_obj.module_path, exc, exc_info=True)
        raise TaskNotQueued(str(exc) if settings.DEBUG else None) from exc
    token = make_status_token(result, await _owner_key(request))
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


async def _owner_key(request: Any) -> str | None:
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
        error: dict[str, Any] = {"detail": "The task failed."}
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

    async def get(self, request: Any, task_id: str) -> Response:
        ref = read_status_token(task_id)
        if ref is None:
            raise NotFound()
        # A project's override may query the ORM (groups, sharing): the hook rule runs it in a
        # thread hop; the default below is pure and runs inline.
        owner = await _owner_key(request)
        if not await call_hook(self, self.has_task_permission, request, ref, owner):
            raise NotFound()
        result = await self.aget_task_result(ref["b"], ref["i"])
        return Response(task_result_data(result, task_id))

    @inline_safe
    def has_task_permission(self, request: Any, ref: dict[str, Any], owner: str | None) -> bool:
        """Whether the caller (`owner`, a user pk or `None`) may read the task `ref`."""
        return ref.get("u") == owner

    async def aget_task_result(self, alias: str, task_id: str) -> TaskResult[..., Any]:
        """Load the result from its backend (one thread hop), or 404 if it is gone."""
        try:
            backend = task_backends[alias]
        except ImproperlyConfigured as exc:  # The alias left TASKS since the enqueue.
            raise NotFound() from exc
        if not getattr(backend, "supports_get_result", False):
            local = _local_results.get(alias, task_id)
            if local is None:
                raise NotFound()
            return local
        try:
            return await backend.aget_result(task_id)  # type: ignore[no-any-return]
        except RESULT_DOES_NOT_EXIST as exc:
            raise NotFound() from exc
        except _BACKEND_ERRORS as exc:
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


_local_results = _LocalResults(_LOCAL_RESULTS_SIZE)


# --- system checks ----------------------------------------------------------------------------


@checks.register()
def check_fire_and_forget_limit(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """daf_drf.E060: `FIRE_AND_FORGET_LIMIT` must be a positive integer."""
    limit = daf_settings.FIRE_AND_FORGET_LIMIT
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return []
    return [
        checks.Error(
            f'DAF_DRF["FIRE_AND_FORGET_LIMIT"] is {limit!r}; expected a positive integer.',
            hint="It bounds how many fire_and_forget() coroutines run at once per event loop.",
            id="daf_drf.E060",
        )
    ]


def _routes_task_status(patterns: Any) -> bool:
    """Whether the URL patterns route a `TaskStatusView` anywhere."""
    for pattern in patterns:
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            if _routes_task_status(nested):
                return True
            continue
        callback = getattr(pattern, "callback", None)
        view_class = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
        if isinstance(view_class, type) and issubclass(view_class, TaskStatusView):
            return True
    return False


def _status_view_is_routed() -> bool:
    from django.urls import get_resolver

    return _routes_task_status(get_resolver().url_patterns)


# Both checks stay silent in a project that does not route the status view: it does not use
# the status endpoint, and `enqueue_response()` explains a missing route when it is called.


@checks.register(checks.Tags.urls)
def check_task_backends(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """daf_drf.W060: in production, a backend that cannot fetch results breaks the status view."""
    if settings.DEBUG or not _status_view_is_routed():
        return []
    messages: list[Any] = []
    for alias in task_backends.settings:
        try:
            backend = task_backends[alias]
        except ImproperlyConfigured:
            continue  # Django's own tasks checks report it.
        if not getattr(backend, "supports_get_result", False):
            messages.append(
                checks.Warning(
                    f"Task backend {alias!r} ({type(backend).__name__}) cannot fetch results, "
                    "so TaskStatusView only knows tasks this process enqueued.",
                    hint="Use the database backend (django-tasks-db) or RQ "
                    "(django-tasks-rq) in production.",
                    id="daf_drf.W060",
                )
            )
    return messages


@checks.register(checks.Tags.urls)
def check_task_status_url(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """daf_drf.W061: a routed `TaskStatusView` must be named `TASK_STATUS_URL_NAME`."""
    from django.urls import reverse as django_reverse

    if not _status_view_is_routed():
        return []
    url_name = daf_settings.TASK_STATUS_URL_NAME
    try:
        django_reverse(url_name, kwargs={"task_id": "x"})
    except NoReverseMatch:
        return [
            checks.Warning(
                f'A TaskStatusView is routed, but DAF_DRF["TASK_STATUS_URL_NAME"] is '
                f"{url_name!r}, which names no URL taking a `task_id`; enqueue_response() "
                "cannot build its Location header.",
                hint="Route it with `*task_status_urlpatterns()` from daf_drf.tasks, or set "
                "TASK_STATUS_URL_NAME to the name you gave it (with its namespace).",
                id="daf_drf.W061",
            )
        ]
    return []
