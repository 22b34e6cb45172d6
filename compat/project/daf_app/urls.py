"""URLs of the migrated API: the same routes as `drf_app/urls.py`, on daf_drf views."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from compat.project.daf_app import views

# DRF's own router: daf_drf viewsets keep DRF's action names.
router = DefaultRouter()
router.register("projects", views.ProjectViewSet, basename="project")

urlpatterns = [
    path("projects/<int:pk>/stats/", views.ProjectStats.as_view(), name="project-stats"),
    path("tickets/", views.TicketList.as_view(), name="ticket-list"),
    path("tickets/<int:pk>/", views.TicketDetail.as_view(), name="ticket-detail"),
    path("health/", views.health, name="health"),
    path("whoami/", views.whoami, name="whoami"),
    path("echo/", views.echo, name="echo"),
    path("labels/", views.labels, name="labels"),
    path("labels/batch/", views.create_labels, name="label-batch"),
    *router.urls,
]
