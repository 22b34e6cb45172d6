"""A fully migrated URLconf: daf_drf views only."""

from __future__ import annotations

from django.urls import path

from tests.checks_urls.mixed import Migrated

urlpatterns = [path("new/", Migrated.as_view())]
