"""Every peer's endpoints under its own prefix, in one project (a mixed project's URLconf)."""

from __future__ import annotations

import importlib
from typing import Any

from django.contrib import admin
from django.urls import path

urlpatterns: list[Any] = [path("admin/", admin.site.urls)]

for prefix, module in (
    ("drf", "bench.realistic.views_drf"),
    ("daf", "bench.realistic.views_daf"),
    ("adrf", "bench.realistic.views_adrf"),
):
    try:
        views = importlib.import_module(module)
    except ImportError:  # a peer not installed; run.py reports its probe failure
        continue
    urlpatterns += [
        path(f"{prefix}/hello", views.Hello.as_view()),
        path(f"{prefix}/upstream", views.Upstream.as_view()),
        path(f"{prefix}/articles/", views.ArticleList.as_view()),
        path(f"{prefix}/articles/<int:pk>/", views.ArticleDetail.as_view()),
    ]

try:
    from bench.realistic import views_ninja
except ImportError:
    pass
else:
    urlpatterns.append(path("ninja/", views_ninja.api.urls))
