"""
System checks with stable ids, run at startup (`manage.py check`, `runserver`, `migrate`).

| id | level | what |
|---|---|---|
| `daf_drf.E001` | error | `DAF_DRF` is not a dict or names an unknown setting |
| `daf_drf.E002` | error | `THROTTLE_FAILURE` is not `"open"` or `"closed"` |
| `daf_drf.E003` | error | `EXCEPTION_HANDLER` cannot be imported |

The throttling, tasks and ASGI modules add their own ids; `docs/` lists them all.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from daf_drf.settings import DEFAULTS

ERRORS_DOC = "See https://daf-drf.readthedocs.io/ (docs/settings.md)."


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
