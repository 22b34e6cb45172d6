"""Django app config: registers daf_drf's system checks."""

from __future__ import annotations

import contextlib

from django.apps import AppConfig

__all__ = ["DafDrfConfig"]


class DafDrfConfig(AppConfig):
    """Add `"daf_drf"` to `INSTALLED_APPS` to get the system checks at startup."""

    name = "daf_drf"
    verbose_name = "daf_drf"

    def ready(self) -> None:
        # Importing these modules registers their checks.
        # `asgi` too: its W050/E051/E052 must be seen by `manage.py check`, which never
        # imports the project's asgi.py.
        from daf_drf import (  # noqa: F401
            asgi,
            checks,
            generics_checks,
            permission_checks,
            throttling_checks,
            transaction,
        )

        # E060, W060, W061; without a Tasks framework (Django 5.2 and no django-tasks
        # backport) daf_drf.tasks cannot be imported, and there is nothing to check.
        with contextlib.suppress(ImportError):
            from daf_drf import tasks  # noqa: F401
