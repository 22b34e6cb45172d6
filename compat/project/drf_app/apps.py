"""App config of the compat project's DRF app (it owns the models)."""

from __future__ import annotations

from django.apps import AppConfig


class DrfAppConfig(AppConfig):
    name = "compat.project.drf_app"
    label = "compat_drf_app"
    verbose_name = "compat project"
    default_auto_field = "django.db.models.AutoField"
