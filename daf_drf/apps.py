"""Django app config: registers daf_drf's system checks."""

from __future__ import annotations

from django.apps import AppConfig


class DafDrfConfig(AppConfig):
    """Add `"daf_drf"` to `INSTALLED_APPS` to get the system checks at startup."""

    name = "daf_drf"
    verbose_name = "daf_drf"

    def ready(self) -> None:
        # Importing these modules registers their checks.
        from daf_drf import (  # noqa: F401
            checks,
            permission_checks,
            throttling_checks,
            transaction,
        )

        try:
            from daf_drf import tasks  # noqa: F401  (E060, W060, W061)
        except ImportError:  # No Tasks framework: Django 5.2 without the django-tasks backport.
            pass
