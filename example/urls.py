"""The demo's URLconf: the API under `api/`, the slow upstream under `upstream/`."""

from __future__ import annotations

from django.urls import include, path
from django.views.generic import RedirectView

from example.api import views

urlpatterns = [
    path("", RedirectView.as_view(url="/api/", permanent=False)),
    path("api/", include("example.api.urls")),
    path("upstream/slow", views.slow_upstream, name="upstream-slow"),
]
