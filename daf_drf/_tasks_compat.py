"""
One import for Django's Tasks framework, whichever provides it.

Django 6.0+ ships it as `django.tasks`; on Django 5.2 the `django-tasks` backport provides the
same API as `django_tasks`. Everything daf_drf needs from either comes through here, so the rest
of the package never names the two modules.

Third-party backends may be written against the backport even on Django 6 (django-tasks-rq
0.12 is), so they raise the backport's `TaskResultDoesNotExist`: `RESULT_DOES_NOT_EXIST` holds
every class that means "no such result".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Typed by django-stubs' `django.tasks`: the backport has the same API.
    from django.tasks import default_task_backend, task_backends
    from django.tasks.backends.base import BaseTaskBackend
    from django.tasks.base import Task, TaskResult, TaskResultStatus, task
    from django.tasks.exceptions import TaskResultDoesNotExist

    TASKS_MODULE: str
else:
    try:
        from django.tasks import default_task_backend, task_backends
        from django.tasks.backends.base import BaseTaskBackend
        from django.tasks.base import Task, TaskResult, TaskResultStatus, task
        from django.tasks.exceptions import TaskResultDoesNotExist

        TASKS_MODULE = "django.tasks"
    except ImportError:  # Django 5.2: the backport.
        try:
            from django_tasks import default_task_backend, task_backends
            from django_tasks.backends.base import BaseTaskBackend
            from django_tasks.base import Task, TaskResult, TaskResultStatus, task
            from django_tasks.exceptions import TaskResultDoesNotExist
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "daf_drf.tasks needs Django's Tasks framework: Django >= 6.0, or on Django 5.2 "
                "the backport (`pip install 'daf_drf[tasks]'`, which installs django-tasks)."
            ) from exc
        TASKS_MODULE = "django_tasks"

_does_not_exist: list[type[Exception]] = [TaskResultDoesNotExist]
try:
    from django_tasks.exceptions import TaskResultDoesNotExist as _BackportDoesNotExist
except ImportError:  # pragma: no cover - only Django 6 without the backport
    pass
else:
    if _BackportDoesNotExist not in _does_not_exist:
        _does_not_exist.append(_BackportDoesNotExist)

RESULT_DOES_NOT_EXIST: tuple[type[Exception], ...] = tuple(_does_not_exist)

__all__ = [
    "RESULT_DOES_NOT_EXIST",
    "TASKS_MODULE",
    "BaseTaskBackend",
    "Task",
    "TaskResult",
    "TaskResultDoesNotExist",
    "TaskResultStatus",
    "default_task_backend",
    "find_unserializable",
    "status_value",
    "task",
    "task_backends",
]


def status_value(status: object) -> str:
    """The plain string of a `TaskResultStatus` from either framework (`"SUCCESSFUL"`)."""
    return str(getattr(status, "value", status))


def find_unserializable(value: object, path: str) -> tuple[str, type] | None:
    """
    Return `(path, type)` of the first part of `value` that JSON cannot carry, or `None`.

    Stricter than the frameworks' own `normalize_json`, which silently turns bytes into text
    and non-string keys into strings: a task must receive what the caller passed, so those are
    refused too. NaN and infinities are refused because they are not JSON.
    """
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return path, float
        return None
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = find_unserializable(item, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} key {key!r}", type(key)
            found = find_unserializable(item, f"{path}[{key!r}]")
            if found is not None:
                return found
        return None
    return path, type(value)
