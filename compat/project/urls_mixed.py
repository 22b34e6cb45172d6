"""The intermediate state (`mixed_urls.py`) alone under `api/`, for differential runs."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("api/", include("compat.project.mixed_urls"))]
