"""
System checks with stable ids, run at startup (`manage.py check`, `runserver`, `migrate`).

| id | level | what |
|---|---|---|
| `daf_drf.E001` | error | `DAF_DRF` is not a dict or names an unknown setting |
| `daf_drf.E002` | error | `THROTTLE_FAILURE` is not `"open"` or `"closed"` |
| `daf_drf.E003` | error | `EXCEPTION_HANDLER` cannot be imported |
| `daf_drf.E005` | error | `EXCEPTION_HANDLER` is async while DRF views are routed |
| `daf_drf.E004` | error | an `INLINE_HOOKS` entry cannot be imported |

The throttling, tasks and ASGI modules add their own ids; `docs/` lists them all.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register
from django.utils.module_loading import import_string

from daf_drf.settings import DEFAULTS

__all__ = ["check_async_exception_handler", "check_exception_handler", "check_settings"]

ERRORS_DOC = "See docs/settings.md in daf_drf's documentation."


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Validate the `DAF_DRF` dict."""
    messages: list[CheckMessage] = []
    user = getattr(settings, "DAF_DRF", None)
    if user is None:
        return messages
    if not isinstance(user, dict):
        return [Error("settings.DAF_DRF must be a dict.", hint=ERRORS_DOC, id="daf_drf.E001")]
    unknown = sorted(set(user) - set(DEFAULTS))
    if unknown:
        messages.append(
            Error(
                f"settings.DAF_DRF has unknown key(s): {', '.join(unknown)}.",
                hint=f"Known keys: {', '.join(sorted(DEFAULTS))}.",
                id="daf_drf.E001",
            )
        )
    messages.extend(_check_inline_hooks(user.get("INLINE_HOOKS", [])))
    failure = user.get("THROTTLE_FAILURE", DEFAULTS["THROTTLE_FAILURE"])
    if failure not in ("open", "closed"):
        messages.append(
            Error(
                f'DAF_DRF["THROTTLE_FAILURE"] is {failure!r}; expected "open" or "closed".',
                hint='"open" admits requests while the throttle store is down; "closed" '
                "answers 429 with Retry-After.",
                id="daf_drf.E002",
            )
        )
    return messages


def _check_inline_hooks(paths: Any) -> list[CheckMessage]:
    # A bad dotted path would otherwise fail every request that calls a sync hook.
    if not isinstance(paths, list | tuple):
        return [
            Error(
                'DAF_DRF["INLINE_HOOKS"] must be a list of dotted paths.',
                hint="List pure sync hooks (functions or classes) that may run on the loop.",
                id="daf_drf.E004",
            )
        ]
    messages: list[CheckMessage] = []
    for path in paths:
        try:
            import_string(path) if isinstance(path, str) else path
        except ImportError as exc:
            messages.append(
                Error(
                    f'DAF_DRF["INLINE_HOOKS"] entry {path!r} cannot be imported: {exc}',
                    hint="Use the dotted path of a function or class.",
                    id="daf_drf.E004",
                )
            )
    return messages


@register()
def check_exception_handler(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """`REST_FRAMEWORK["EXCEPTION_HANDLER"]` must import, or every error becomes a 500."""
    from rest_framework.settings import api_settings

    try:
        api_settings.EXCEPTION_HANDLER  # noqa: B018
    except ImportError as exc:
        return [
            Error(
                f'REST_FRAMEWORK["EXCEPTION_HANDLER"] cannot be imported: {exc}',
                hint="Point it at a sync or async function (exc, context) -> Response | None.",
                id="daf_drf.E003",
            )
        ]
    return []


@register()
def check_async_exception_handler(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """An async `EXCEPTION_HANDLER` turns every error on a view DRF still serves into a 500."""
    import inspect

    from rest_framework import views as drf_views
    from rest_framework.settings import api_settings

    from daf_drf.permission_checks import _drf_views

    try:
        handler = api_settings.EXCEPTION_HANDLER
    except ImportError:
        return []  # daf_drf.E003
    if not inspect.iscoroutinefunction(handler):
        return []
    routes = [
        f"/{route}"
        for route, cls, _ in _drf_views()
        if cls.handle_exception is drf_views.APIView.handle_exception
        and cls.get_exception_handler is drf_views.APIView.get_exception_handler
    ]
    if not routes:
        return []
    shown = ", ".join(routes[:3]) + (f" and {len(routes) - 3} more" if len(routes) > 3 else "")
    return [
        Error(
            f'REST_FRAMEWORK["EXCEPTION_HANDLER"] is async, but views served by DRF ({shown}) '
            "call it synchronously: every error they raise would become a 500.",
            hint="Use rest_framework.views.exception_handler (daf_drf views run it inline, "
            "without a thread hop) or daf_drf.exceptions.problem_details_handler until every "
            "view is a daf_drf view.",
            id="daf_drf.E005",
        )
    ]
