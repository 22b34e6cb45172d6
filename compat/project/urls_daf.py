"""The migrated API alone under `api/`: the other side of the differential suite."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("api/", include("compat.project.daf_app.urls"))]
