"""Every peer's endpoints under its own prefix. `/_bench/missing` lists what could not load."""

from __future__ import annotations

import importlib
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import path

from bench.project import views_django

MISSING: dict[str, str] = {}


def _load(module: str) -> Any:
    # A peer whose module cannot be imported (a package not installed, a daf_drf module not
    # built yet) is reported by run.py as missing, never silently dropped.
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        MISSING[module] = str(exc)
        return None


def missing(request: HttpRequest) -> JsonResponse:
    return JsonResponse(MISSING)


urlpatterns: list[Any] = [
    path("_bench/missing", missing),
    path("django/hello", views_django.hello),
    path("django/io", views_django.io),
    path("django/fanout", views_django.fanout),
]

for prefix, module in (
    ("drf", "bench.project.views_drf"),
    ("adrf", "bench.project.views_adrf"),
    ("daf", "bench.project.views_daf"),
):
    views = _load(module)
    if views is None:
        continue
    for name, route in (
        ("Hello", "hello"),
        ("IO", "io"),
        ("AuthPerm", "authperm"),
        ("Throttled", "throttled"),
        ("List1000", "list1000"),
        ("Create", "create"),
        ("Fanout", "fanout"),
    ):
        view = getattr(views, name, None)
        if view is not None:
            urlpatterns.append(path(f"{prefix}/{route}", view.as_view()))
    if prefix == "daf":
        urlpatterns.append(path("daf/unthrottled", views.Hello.as_view()))

ninja = _load("bench.project.views_ninja")
if ninja is not None:
    urlpatterns.append(path("ninja/", ninja.api.urls))
