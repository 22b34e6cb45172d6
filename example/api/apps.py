"""App config of the demo API."""

from __future__ import annotations

from django.apps import AppConfig


class DemoApiConfig(AppConfig):
    name = "example.api"
    label = "demo"
    default_auto_field = "django.db.models.AutoField"
