"""URLs of the demo API."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from example.api import legacy, views

# DRF's own router: daf_drf viewsets keep DRF's action names.
router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("quotes", views.QuoteViewSet, basename="quote")

urlpatterns = [
    path("", views.api_root, name="api-root"),
    path("legacy/quotes/", legacy.LegacyQuoteList.as_view(), name="legacy-quote-list"),
    path("fanout/", views.fanout, name="fanout"),
    path("events/", views.events, name="events"),
    *router.urls,
]
