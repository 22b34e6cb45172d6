"""
An intermediate state of the migration: some endpoints on daf_drf, the rest still on DRF,
under one URLconf and one set of throttle counters.

| endpoint | runs on |
|---|---|
| `projects/` (ModelViewSet) | DRF |
| `projects/<pk>/stats/` | daf_drf |
| `tickets/`, `tickets/<pk>/` | daf_drf |
| `health/`, `echo/`, `labels/batch/` | daf_drf |
| `whoami/`, `labels/` | DRF |
"""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from compat.project.daf_app import views as daf
from compat.project.drf_app import views as drf

router = DefaultRouter()
router.register("projects", drf.ProjectViewSet, basename="project")

urlpatterns = [
    path("projects/<int:pk>/stats/", daf.ProjectStats.as_view(), name="project-stats"),
    path("tickets/", daf.TicketList.as_view(), name="ticket-list"),
    path("tickets/<int:pk>/", daf.TicketDetail.as_view(), name="ticket-detail"),
    path("health/", daf.health, name="health"),
    path("whoami/", drf.whoami, name="whoami"),
    path("echo/", daf.echo, name="echo"),
    path("labels/", drf.labels, name="labels"),
    path("labels/batch/", daf.create_labels, name="label-batch"),
    *router.urls,
]

MIGRATED = {"project-stats", "ticket-list", "ticket-detail", "health", "echo", "label-batch"}
