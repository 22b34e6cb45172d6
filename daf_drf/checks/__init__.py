"""
daf_drf's system checks, with stable ids, run at startup (`manage.py check`, `runserver`,
`migrate`).

- `daf_drf.checks.registry`: `CHECKS`, the table of every id (its level, its meaning, the
  function that emits it), and `register_checks()`, which `DafDrfConfig.ready()` calls: with
  `"daf_drf"` in `INSTALLED_APPS`, every check runs, whichever daf_drf modules the project
  imports; importing a module registers nothing.
- One module per area: `settings` (E001-E005), `permissions` (E010, E011), `throttling`
  (E020-E024, W020), `transaction` (W040), `tasks` (E060, W060, W061), `generics` (W070).
  The ASGI entry's checks (W050-W053, E051-E053) live in `daf_drf.asgi`.
- `daf_drf.checks.urls`: the URLconf walker the checks about routed views share (each of them
  is registered with `Tags.urls`).

docs/checks.md explains each id and how to fix it.
"""

from __future__ import annotations

from daf_drf.checks.registry import CHECKS, CheckId, register_checks
from daf_drf.checks.settings import (
    check_async_exception_handler,
    check_exception_handler,
    check_settings,
)

__all__ = [
    "CHECKS",
    "CheckId",
    "check_async_exception_handler",
    "check_exception_handler",
    "check_settings",
    "register_checks",
]
