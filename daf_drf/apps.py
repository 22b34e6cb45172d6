"""Django app config: registers daf_drf's system checks."""

from __future__ import annotations

from django.apps import AppConfig

__all__ = ["DafDrfConfig"]


class DafDrfConfig(AppConfig):
    """Add `"daf_drf"` to `INSTALLED_APPS` to get the system checks at startup."""

    name = "daf_drf"
    verbose_name = "daf_drf"

    def ready(self) -> None:
        # Every check of `daf_drf.checks.registry.CHECKS`, the ASGI entry's included: they must
        # be seen by `manage.py check`, which never imports the project's asgi.py.
        from daf_drf.checks.registry import register_checks

        register_checks()
