"""
The entry's system checks: `daf_drf.W050`, `E051`, `E052`, `E053` and `W053`.

Each problem is found by one function, shared by the check (`manage.py check`, at every
start-up) and by `ASGIHandler()`, which refuses to start on the errors with
`ImproperlyConfigured` carrying the same id: the check reports early what the entry would
refuse later.

- W050: the installed Django changed handler code the entry copies or relies on
  (`daf_drf.asgi._guard`); `get_asgi_application()` then serves with Django's stock handler.
- E051, E052: `ASGI_THREAD_POOL_SIZE` is not a size, or asgiref no longer has the per-context
  executor registry the pool plugs into.
- E053: the entry opted out of its thread pool (`0`) while a database keeps persistent
  connections.
- W053: Django changed middleware code the middleware rules were read from
  (`daf_drf.asgi._middleware`); every middleware hook then keeps Django's thread hop.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import cast

import asgiref
import django
from asgiref.sync import SyncToAsync
from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning

from daf_drf.asgi._guard import problems
from daf_drf.asgi._middleware import verified
from daf_drf.settings import DEFAULTS, daf_settings

__all__ = [
    "DEFAULT_POOL_SIZE",
    "E053_HINT",
    "check_asgi",
    "connection_problem",
    "pool_problem",
    "pool_size",
]


DEFAULT_POOL_SIZE = cast(int, DEFAULTS["ASGI_THREAD_POOL_SIZE"])
"""The entry's pool size when `ASGI_THREAD_POOL_SIZE` is unset or `None` (docs/deployment.md)."""


def pool_size(thread_pool_size: object = None) -> object:
    """The configured pool size: the argument, else the setting; `None` is the default."""
    size = daf_settings.ASGI_THREAD_POOL_SIZE if thread_pool_size is None else thread_pool_size
    return DEFAULT_POOL_SIZE if size is None else size


def pool_problem(size: object) -> tuple[str, str] | None:
    """(check id, message) if the thread pool setting cannot work, else `None`."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return "daf_drf.E051", (
            f'DAF_DRF["ASGI_THREAD_POOL_SIZE"] is {size!r}; expected None (the default, '
            f"{DEFAULT_POOL_SIZE}), a positive int, or 0 (a fresh thread per request)."
        )
    registry = getattr(SyncToAsync, "context_to_thread_executor", None)
    if not isinstance(registry, weakref.WeakKeyDictionary):
        # Every setting uses it, the opt-out too: it is how the entry bounds the threads
        # (and so the database connections) of a process.
        return "daf_drf.E052", (
            f"asgiref {asgiref.__version__} no longer keeps a per-context executor registry "
            "(SyncToAsync.context_to_thread_executor), which daf_drf.asgi uses to bound its "
            "request threads."
        )
    return None


E053_HINT = (
    'Remove DAF_DRF["ASGI_THREAD_POOL_SIZE"] = 0 or set a size (persistent connections are '
    "then one per pooled thread and alias, reused by later requests), or CONN_MAX_AGE = 0 "
    '(on PostgreSQL with OPTIONS={"pool": {...}} to reuse connections). See '
    'docs/deployment.md, "PostgreSQL".'
)


def connection_problem(size: object) -> tuple[str, str] | None:
    """
    (check id, message) when the entry is opted out of its thread pool (`0`) and a database
    keeps persistent connections: every request that runs sync code gets a fresh thread,
    whose connection no later request reuses and nothing closes until the thread is
    collected. Measured without any bound on threads: 96 of 100 connection slots in 1,100
    requests, 301 errors; so the entry refuses to start instead.
    """
    if size != 0:
        return None
    from django.db import connections

    for alias, database in connections.settings.items():
        max_age = database.get("CONN_MAX_AGE", 0)
        if max_age is None or (isinstance(max_age, int | float) and max_age > 0):
            return "daf_drf.E053", (
                "daf_drf.asgi is opted out of its thread pool (ASGI_THREAD_POOL_SIZE = 0) and "
                f"DATABASES[{alias!r}] sets CONN_MAX_AGE = {max_age!r}: each request that runs "
                "sync code would leave a persistent connection on a thread that is never "
                f"reused, until the database refuses new connections. {E053_HINT}"
            )
    return None


def check_asgi(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """
    daf_drf.W050, E051, E052, E053, W053: the entry can run on this Django and asgiref, as
    configured, without leaking database connections.
    """
    messages: list[CheckMessage] = []
    _variant, issues = problems()
    for issue in issues:
        messages.append(
            Warning(
                issue,
                hint="daf_drf.asgi.get_asgi_application() serves with Django's stock "
                "ASGIHandler on this Django version: correct, without the inline fast path.",
                id="daf_drf.W050",
            )
        )
    size = pool_size()
    problem = pool_problem(size)
    if problem:
        messages.append(Error(problem[1], id=problem[0]))
    problem = connection_problem(size)
    if problem:
        messages.append(Error(problem[1], id=problem[0]))
    if not issues and not verified():
        messages.append(
            Warning(
                f"Django {django.get_version()} changed middleware code daf_drf.asgi reads "
                "before it runs Django's own middleware hooks on the event loop.",
                hint="daf_drf.asgi runs every middleware hook in Django's thread hop on this "
                "Django version: correct, slower.",
                id="daf_drf.W053",
            )
        )
    return messages
