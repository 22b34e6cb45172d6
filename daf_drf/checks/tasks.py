"""
System checks of background work: `daf_drf.E060`, `W060`, `W061` (see
`daf_drf.checks.registry.CHECKS`).

This module imports `daf_drf.tasks`, which needs a Tasks framework (`django.tasks` on Django
6.0+, the django-tasks backport on 5.2): without one, it cannot be imported, and the registry
registers none of its checks, as there is nothing to check.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning
from django.core.exceptions import ImproperlyConfigured
from django.urls import NoReverseMatch, reverse

from daf_drf.checks.urls import routes
from daf_drf.settings import daf_settings
from daf_drf.tasks import TaskStatusView, task_backends

__all__ = ["check_fire_and_forget_limit", "check_task_backends", "check_task_status_url"]


def check_fire_and_forget_limit(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """daf_drf.E060: `FIRE_AND_FORGET_LIMIT` must be a positive integer."""
    limit = daf_settings.FIRE_AND_FORGET_LIMIT
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return []
    return [
        Error(
            f'DAF_DRF["FIRE_AND_FORGET_LIMIT"] is {limit!r}; expected a positive integer.',
            hint="It bounds how many fire_and_forget() coroutines run at once per event loop.",
            id="daf_drf.E060",
        )
    ]


# Both URL checks stay silent in a project that does not route the status view: it does not
# use the status endpoint, and `enqueue_response()` explains a missing route when it is called.


def check_task_backends(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """daf_drf.W060: in production, a backend that cannot fetch results breaks the status view."""
    if settings.DEBUG or not routes(TaskStatusView):
        return []
    messages: list[CheckMessage] = []
    for alias in task_backends.settings:
        try:
            backend = task_backends[alias]
        except ImproperlyConfigured:
            continue  # Django's own tasks checks report it.
        if not getattr(backend, "supports_get_result", False):
            messages.append(
                Warning(
                    f"Task backend {alias!r} ({type(backend).__name__}) cannot fetch results, "
                    "so TaskStatusView only knows tasks this process enqueued.",
                    hint="Use the database backend (django-tasks-db) or RQ "
                    "(django-tasks-rq) in production.",
                    id="daf_drf.W060",
                )
            )
    return messages


def check_task_status_url(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """daf_drf.W061: a routed `TaskStatusView` must be named `TASK_STATUS_URL_NAME`."""
    if not routes(TaskStatusView):
        return []
    url_name = daf_settings.TASK_STATUS_URL_NAME
    try:
        reverse(url_name, kwargs={"task_id": "x"})
    except NoReverseMatch:
        return [
            Warning(
                f'A TaskStatusView is routed, but DAF_DRF["TASK_STATUS_URL_NAME"] is '
                f"{url_name!r}, which names no URL taking a `task_id`; enqueue_response() "
                "cannot build its Location header.",
                hint="Route it with `*task_status_urlpatterns()` from daf_drf.tasks, or set "
                "TASK_STATUS_URL_NAME to the name you gave it (with its namespace).",
                id="daf_drf.W061",
            )
        ]
    return []
