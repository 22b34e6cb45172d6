from __future__ import annotations

from django.urls import path

from tests.reliability import views

urlpatterns = [
    path("boom/handler/<str:kind>", views.Boom.as_view()),
    path("boom/sync-permission/<str:kind>", views.BoomInSyncPermission.as_view()),
    path("boom/async-permission/<str:kind>", views.BoomInAsyncPermission.as_view()),
    path("echo", views.Echo.as_view()),
    path("slow", views.Slow.as_view()),
    path("ident", views.Ident.as_view()),
    path("throttled", views.Throttled.as_view()),
    path("per-client", views.PerClient.as_view()),
]
