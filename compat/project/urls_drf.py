"""The DRF API alone under `api/`: one side of the differential suite."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("api/", include("compat.project.drf_app.urls"))]
