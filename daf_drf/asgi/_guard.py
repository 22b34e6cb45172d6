"""
The fingerprint guard: which Django code `daf_drf.asgi` was written against, checked at startup.

`daf_drf.asgi.ASGIHandler` carries its own copy of `ASGIHandler.handle()` (one per shape of
that method across Django versions, `daf_drf.asgi._handle`) and runs some of Django's signal
receivers on the event loop (`daf_drf.asgi._rules`). Both are correct only for the Django
code they were read from, so every function whose body the fast path relies on is
fingerprinted: its tokens without comments, whitespace or line breaks, hashed. On a Django
release that changes any of them, `get_asgi_application()` logs an error and serves with
Django's stock handler (system check `daf_drf.W050`), and constructing the entry directly
raises `ImproperlyConfigured`: requests never run through a copy that no longer matches
Django. `daf_drf.asgi._middleware` fingerprints the middleware code its rules were read
from with the same `fingerprint()`.

`RECEIVERS` is the one list of Django's own `request_started` / `request_finished`
receivers: the guard fingerprints them and the inline rules run only them.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import textwrap
import tokenize
from collections.abc import Callable

import django
from django.core import signals
from django.core.cache import close_caches
from django.core.exceptions import ImproperlyConfigured

# Django's class as imported now, before anything (a test harness, another library) replaces
# the module attribute: it is the class daf_drf.asgi.ASGIHandler inherits from.
from django.core.handlers.asgi import ASGIHandler as DjangoASGIHandler
from django.core.handlers.base import reset_urlconf
from django.db import close_old_connections, reset_queries
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http.response import HttpResponseBase

__all__ = [
    "HANDLE_TASKGROUP",
    "HANDLE_TASKS",
    "RECEIVERS",
    "fingerprint",
    "problems",
    "relied_on",
    "verify",
]

#: A receiver of Django's request signals: called as `receiver(signal=..., sender=..., **named)`.
Receiver = Callable[..., object]

# Django's own receivers of `request_started` / `request_finished`, by dotted name. Read from
# their source (and fingerprinted below): they act only on database connections of the calling
# thread (thread-critical) and on context-local caches and urlconf.
RECEIVERS: dict[str, Receiver] = {
    "django.db.reset_queries": reset_queries,
    "django.db.close_old_connections": close_old_connections,
    "django.core.cache.close_caches": close_caches,
    "django.core.handlers.base.reset_urlconf": reset_urlconf,
}

# The two shapes of `ASGIHandler.handle()`: 5.2 and 6.0 race two tasks with `asyncio.wait`;
# 6.1 uses an `asyncio.TaskGroup` and `closing(body_file)`.
HANDLE_TASKS = "tasks"
HANDLE_TASKGROUP = "taskgroup"

_KEPT_TOKENS = frozenset({tokenize.NAME, tokenize.OP, tokenize.NUMBER, tokenize.STRING})


def fingerprint_source(source: str) -> str:
    """Hash of the code tokens of `source`; comments and formatting do not count."""
    readline = io.StringIO(textwrap.dedent(source)).readline
    parts = [tok.string for tok in tokenize.generate_tokens(readline) if tok.type in _KEPT_TOKENS]
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def fingerprint(func: Callable[..., object]) -> str:
    """Fingerprint of a function's source, as read by `inspect.getsource`."""
    try:
        return fingerprint_source(inspect.getsource(func))
    except (OSError, TypeError):
        # No source to check (a bytecode-only install): treated as changed.
        return "source-unavailable"


_WRAPPER = "django.db.backends.base.base.BaseDatabaseWrapper"


def relied_on() -> dict[str, Callable[..., object]]:
    """The Django functions whose bodies the fast path was written against, by dotted name."""
    return {
        "django.core.handlers.asgi.ASGIHandler.__call__": DjangoASGIHandler.__call__,
        "django.core.handlers.asgi.ASGIHandler.handle": DjangoASGIHandler.handle,
        "django.http.response.HttpResponseBase.close": HttpResponseBase.close,
        # What `close_old_connections` does to each connection: the inline rules read its
        # conditions to tell when it would close none (daf_drf.asgi._rules).
        _WRAPPER + ".close_if_unusable_or_obsolete": (
            BaseDatabaseWrapper.close_if_unusable_or_obsolete
        ),
        _WRAPPER + ".get_autocommit": BaseDatabaseWrapper.get_autocommit,
        **RECEIVERS,
    }


# Fingerprints read from Django 5.2.19, 6.0.10 and 6.1.3. Print the installed ones with
# `python -c "from daf_drf.asgi._guard import current; print(current())"`.
_COMMON: dict[str, str] = {
    "django.core.handlers.asgi.ASGIHandler.__call__": "fa804cfa60db1df9",
    "django.http.response.HttpResponseBase.close": "eced21ebb093c1eb",
    "django.db.close_old_connections": "660297472039b178",
    "django.db.reset_queries": "a2fa38ee9c3c97f1",
    "django.core.cache.close_caches": "67627f863a9f65c1",
    "django.core.handlers.base.reset_urlconf": "a80f8e52cc3c1862",
    _WRAPPER + ".close_if_unusable_or_obsolete": "76dca45af68d860d",
    _WRAPPER + ".get_autocommit": "8b088456f4076b02",
}
KNOWN: dict[str, dict[str, str]] = {
    # Django 5.2 and 6.0 share this `handle()`.
    HANDLE_TASKS: {**_COMMON, "django.core.handlers.asgi.ASGIHandler.handle": "750f78ae8b653ced"},
    # Django 6.1.
    HANDLE_TASKGROUP: {
        **_COMMON,
        "django.core.handlers.asgi.ASGIHandler.handle": "f4d0808caf83b788",
    },
}


def current() -> dict[str, str]:
    """Fingerprints of the installed Django's relied-on functions."""
    return {name: fingerprint(func) for name, func in relied_on().items()}


def _probe_signals() -> str | None:
    # `Signal._live_receivers(sender)` is private; the fast path uses it to see whether only
    # Django's own receivers are connected. It returns (sync receivers, async receivers).
    try:
        live = signals.request_started._live_receivers(None)
    except Exception as exc:
        return f"Signal._live_receivers(sender) failed: {exc!r}"
    if not (isinstance(live, tuple) and len(live) == 2 and all(isinstance(x, list) for x in live)):
        return "Signal._live_receivers(sender) no longer returns (sync, async) lists"
    return None


def problems() -> tuple[str | None, list[str]]:
    """Return the `handle()` shape to use for this Django and what does not match (if any)."""
    found = current()
    issues: list[str] = []
    variant: str | None = None
    for shape, expected in KNOWN.items():
        if all(found.get(name) == digest for name, digest in expected.items()):
            variant = shape
            break
    if variant is None:
        closest = min(
            KNOWN.values(),
            key=lambda exp: sum(found.get(n) != d for n, d in exp.items()),
            default={},
        )
        changed = sorted(n for n, d in closest.items() if found.get(n) != d)
        issues.append(
            f"Django {django.get_version()} changed code daf_drf.asgi relies on: "
            + ", ".join(changed)
        )
    probe = _probe_signals()
    if probe:
        issues.append(probe)
    return variant, issues


def verify() -> str:
    """Return the `handle()` shape for the installed Django, or raise `ImproperlyConfigured`."""
    variant, issues = problems()
    if issues or variant is None:
        raise ImproperlyConfigured(
            "daf_drf.asgi cannot serve requests on this Django: "
            + "; ".join(issues)
            + ". Use django.core.asgi.get_asgi_application() until daf_drf supports it "
            "(daf_drf.W050)."
        )
    return variant
