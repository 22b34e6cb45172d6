"""
System check of `ATOMIC_REQUESTS`: `daf_drf.W040` (see `daf_drf.checks.registry.CHECKS`).

Django cannot wrap an async view in a transaction, so daf_drf marks its views non-atomic
(`daf_drf.transaction`); this check says so when a database sets `ATOMIC_REQUESTS`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.apps import AppConfig
from django.core.checks import CheckMessage, Warning
from django.db import connections

__all__ = ["check_atomic_requests"]


def check_atomic_requests(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: object
) -> list[CheckMessage]:
    """W040: `ATOMIC_REQUESTS` does not wrap daf_drf's async views."""
    aliases = [alias for alias, db in connections.settings.items() if db.get("ATOMIC_REQUESTS")]
    if not aliases:
        return []
    return [
        Warning(
            f"ATOMIC_REQUESTS is set for database(s) {', '.join(aliases)}, but Django cannot "
            "wrap async views in a transaction, so daf_drf views run non-atomic.",
            hint="daf_drf's generic write pipelines (validate, save, serialize) stay atomic; "
            "wrap other database work of async handlers with daf_drf.transaction.atomic. "
            "See docs/transactions.md. Silence with SILENCED_SYSTEM_CHECKS = "
            '["daf_drf.W040"] once reviewed.',
            id="daf_drf.W040",
        )
    ]
