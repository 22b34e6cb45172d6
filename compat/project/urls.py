"""
The compat project's URLconf: the DRF API under `drf/`, the migrated API under `daf/` and the
intermediate state under `mixed/`, each with its own namespace.
"""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("drf/", include(("compat.project.drf_app.urls", "drf"))),
    path("daf/", include(("compat.project.daf_app.urls", "daf"))),
    path("mixed/", include(("compat.project.mixed_urls", "mixed"))),
]
