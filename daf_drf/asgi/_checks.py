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
- E053: no thread pool while a database keeps persistent connections.
- W053: Django changed middleware code the middleware rules were read from
  (`daf_drf.asgi._middleware`); every middleware hook then keeps Django's thread hop.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence

import asgiref
import django
from asgiref.sync import SyncToAsync
from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning

from daf_drf.asgi._guard import problems
from daf_drf.asgi._middleware import verified
from daf_drf.settings import daf_settings

__all__ = ["E053_HINT", "check_asgi", "connection_problem", "pool_problem"]


def pool_problem(size: object) -> tuple[str, str] | None:
    """(check id, message) if the thread pool setting cannot work, else `None`."""
    if size is None or size == 0:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        return "daf_drf.E051", (
            f'DAF_DRF["ASGI_THREAD_POOL_SIZE"] is {size!r}; expected None, 0 (no pool) or a '
            "positive int."
        )
    registry = getattr(SyncToAsync, "context_to_thread_executor", None)
    if not isinstance(registry, weakref.WeakKeyDictionary):
        return "daf_drf.E052", (
            f"asgiref {asgiref.__version__} no longer keeps a per-context executor registry "
            "(SyncToAsync.context_to_thread_executor), which daf_drf.asgi's thread pool uses."
        )
    return None


E053_HINT = (
    'Set DAF_DRF["ASGI_THREAD_POOL_SIZE"] (persistent connections are then one per pooled '
    "thread and alias, reused by later requests), or CONN_MAX_AGE = 0 (on PostgreSQL with "
    'OPTIONS={"pool": {...}} to reuse connections). See docs/deployment.md, "PostgreSQL".'
)


def connection_problem(size: object) -> tuple[str, str] | None:
    """
    (check id, message) when the entry has no thread pool and a database keeps persistent
    connections: every request that runs sync code gets a fresh thread, whose connection
    no later request reuses and nothing closes until the process exits. Under load that
    exhausts the database's connection slots (measured: 96 of 100 in 1,100 requests, 301
    errors), so the entry refuses to start instead.
    """
    if size:
        return None
    from django.db import connections

    for alias, database in connections.settings.items():
        max_age = database.get("CONN_MAX_AGE", 0)
        if max_age is None or (isinstance(max_age, int | float) and max_age > 0):
            return "daf_drf.E053", (
                f"daf_drf.asgi has no thread pool and DATABASES[{alias!r}] sets "
                f"CONN_MAX_AGE = {max_age!r}: each request that runs sync code would leave a "
                "persistent connection on a thread that is never reused, until the database "
                f"refuses new connections. {E053_HINT}"
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
    size = daf_settings.ASGI_THREAD_POOL_SIZE
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
