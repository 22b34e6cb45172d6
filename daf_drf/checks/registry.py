"""
Every daf_drf system check id, the function that emits it, and their registration.

`CHECKS` is the one table of ids: docs/checks.md lists the same ids at the same levels (a test
holds them together). `register_checks()` registers the functions of the table with Django;
`DafDrfConfig.ready()` calls it, so importing a daf_drf module registers nothing, and every
check runs in `manage.py check` whichever modules the project imports (its asgi.py included,
which `manage.py` never imports).

To add a check: write the function in the module of its area (`def check_x(app_configs=None,
**kwargs)`, without `@register`), add a row per id it emits to `CHECKS`, its dotted path to
`URL_CHECKS` if it calls `daf_drf.checks.urls.routed_views()`, and a row to docs/checks.md;
tests/test_checks_registry.py holds the three together, and a test of its own must trigger
each new id.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Literal, NamedTuple

from django.core.checks import CheckMessage, Tags, register

__all__ = ["CHECKS", "URL_CHECKS", "CheckId", "check_functions", "register_checks"]

CheckFunction = Callable[..., list[CheckMessage]]


class CheckId(NamedTuple):
    """One stable check id: what it means, and the check function that emits it."""

    id: str
    """`"daf_drf.E001"`: what `SILENCED_SYSTEM_CHECKS` names."""
    level: Literal["error", "warning"]
    """An error stops `manage.py` commands; a warning is printed."""
    meaning: str
    """When it is raised, in one line (docs/checks.md says how to fix it)."""
    check: str
    """The dotted path of the check function that emits it."""


_SETTINGS = "daf_drf.checks.settings"
_PERMISSIONS = "daf_drf.checks.permissions"
_THROTTLING = "daf_drf.checks.throttling"
_TRANSACTION = "daf_drf.checks.transaction"
_ASGI = "daf_drf.asgi"
_TASKS = "daf_drf.checks.tasks"
_GENERICS = "daf_drf.checks.generics"

CHECKS: tuple[CheckId, ...] = (
    # settings
    CheckId(
        "daf_drf.E001",
        "error",
        "`DAF_DRF` is not a dict, or names a setting daf_drf does not know",
        f"{_SETTINGS}.check_settings",
    ),
    CheckId(
        "daf_drf.E002",
        "error",
        '`THROTTLE_FAILURE` is not `"open"` or `"closed"`',
        f"{_SETTINGS}.check_settings",
    ),
    CheckId(
        "daf_drf.E003",
        "error",
        "DRF's `EXCEPTION_HANDLER` cannot be imported",
        f"{_SETTINGS}.check_exception_handler",
    ),
    CheckId(
        "daf_drf.E004",
        "error",
        "`INLINE_HOOKS` is not a list, or one of its entries cannot be imported",
        f"{_SETTINGS}.check_settings",
    ),
    CheckId(
        "daf_drf.E005",
        "error",
        "DRF's `EXCEPTION_HANDLER` is async while views DRF dispatches are routed",
        f"{_SETTINGS}.check_async_exception_handler",
    ),
    CheckId(
        "daf_drf.E006",
        "error",
        "`TOKEN_CACHE_TIMEOUT` is not a number of seconds >= 0",
        f"{_SETTINGS}.check_settings",
    ),
    # permissions and authentication
    CheckId(
        "daf_drf.E010",
        "error",
        "an async permission on a view DRF checks synchronously (it never denies)",
        f"{_PERMISSIONS}.check_async_hooks_on_drf_views",
    ),
    CheckId(
        "daf_drf.E011",
        "error",
        "an async-only authenticator on a view DRF authenticates (every request 500s)",
        f"{_PERMISSIONS}.check_async_hooks_on_drf_views",
    ),
    # throttling
    CheckId(
        "daf_drf.E020",
        "error",
        "a rate in `DEFAULT_THROTTLE_RATES` that DRF would crash on or misread",
        f"{_THROTTLING}.check_throttle_rates",
    ),
    CheckId(
        "daf_drf.E021",
        "error",
        "`THROTTLE_STORE` is not a store URL daf_drf knows (or redis-py refuses)",
        f"{_THROTTLING}.check_throttle_settings",
    ),
    CheckId(
        "daf_drf.E022",
        "error",
        "a numeric `THROTTLE_*` setting is not a positive number",
        f"{_THROTTLING}.check_throttle_settings",
    ),
    CheckId(
        "daf_drf.E023",
        "error",
        "a throttle class (a default one, or one of a routed view) has an invalid `rate`",
        f"{_THROTTLING}.check_throttle_rates",
    ),
    CheckId(
        "daf_drf.E024",
        "error",
        "an async-only throttle on a view DRF dispatches (it never throttles)",
        f"{_THROTTLING}.check_async_throttles_on_drf_views",
    ),
    CheckId(
        "daf_drf.W020",
        "warning",
        "throttles count in a Django cache other processes share, which is not atomic",
        f"{_THROTTLING}.check_throttle_store_atomicity",
    ),
    # transactions
    CheckId(
        "daf_drf.W040",
        "warning",
        "a database sets `ATOMIC_REQUESTS`, which cannot wrap daf_drf's async views",
        f"{_TRANSACTION}.check_atomic_requests",
    ),
    # the ASGI entry (its checks live with it)
    CheckId(
        "daf_drf.W050",
        "warning",
        "the installed Django changed the handler code the ASGI entry was written against",
        f"{_ASGI}.check_asgi",
    ),
    CheckId(
        "daf_drf.E051",
        "error",
        "`ASGI_THREAD_POOL_SIZE` is not `None`, `0` or a positive integer",
        f"{_ASGI}.check_asgi",
    ),
    CheckId(
        "daf_drf.E052",
        "error",
        "a thread pool is configured, but asgiref lacks the executor registry it relies on",
        f"{_ASGI}.check_asgi",
    ),
    CheckId(
        "daf_drf.E053",
        "error",
        "no thread pool while a database keeps persistent connections (`CONN_MAX_AGE`)",
        f"{_ASGI}.check_asgi",
    ),
    CheckId(
        "daf_drf.W053",
        "warning",
        "the installed Django changed the middleware code the ASGI entry reads",
        f"{_ASGI}.check_asgi",
    ),
    # background tasks (registered only where a Tasks framework is installed)
    CheckId(
        "daf_drf.E060",
        "error",
        "`FIRE_AND_FORGET_LIMIT` is not a positive integer",
        f"{_TASKS}.check_fire_and_forget_limit",
    ),
    CheckId(
        "daf_drf.W060",
        "warning",
        "a task backend cannot fetch results while the task-status view is routed",
        f"{_TASKS}.check_task_backends",
    ),
    CheckId(
        "daf_drf.W061",
        "warning",
        "a task-status view is routed, but `TASK_STATUS_URL_NAME` names no URL of it",
        f"{_TASKS}.check_task_status_url",
    ),
    # generic views
    CheckId(
        "daf_drf.W070",
        "warning",
        "an async `get_queryset` that DRF or a library calls synchronously",
        f"{_GENERICS}.check_async_get_queryset",
    ),
)

URL_CHECKS: frozenset[str] = frozenset(
    {
        f"{_SETTINGS}.check_async_exception_handler",
        f"{_PERMISSIONS}.check_async_hooks_on_drf_views",
        f"{_THROTTLING}.check_throttle_rates",
        f"{_THROTTLING}.check_async_throttles_on_drf_views",
        f"{_TASKS}.check_task_backends",
        f"{_TASKS}.check_task_status_url",
        f"{_GENERICS}.check_async_get_queryset",
    }
)
"""The check functions that walk the URLconf (`daf_drf.checks.urls`): tagged `Tags.urls`."""

# Modules that cannot be imported in some supported installs; their checks are then left out.
# `daf_drf.checks.tasks` needs a Tasks framework (Django 6.0+, or the django-tasks backport).
_OPTIONAL_MODULES = frozenset({_TASKS})


def check_functions() -> Iterator[tuple[str, CheckFunction]]:
    """
    Each check function of `CHECKS` once, in table order, with its dotted path; the functions
    of a module that cannot be imported in this install (`daf_drf.checks.tasks` without a
    Tasks framework) are left out.
    """
    seen: set[str] = set()
    for entry in CHECKS:
        if entry.check in seen:
            continue
        seen.add(entry.check)
        module_name, _, name = entry.check.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            if module_name in _OPTIONAL_MODULES:
                continue
            raise
        function: CheckFunction = getattr(module, name)
        yield entry.check, function


def register_checks() -> None:
    """
    Register every check of `CHECKS` with Django's check registry, URL walkers with
    `Tags.urls`. Calling it again changes nothing: Django's registry is a set of functions.
    """
    for path, function in check_functions():
        tags = (Tags.urls,) if path in URL_CHECKS else ()
        register(function, *tags)
