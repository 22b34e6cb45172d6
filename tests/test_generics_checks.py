"""
`daf_drf.W070`: an `async def get_queryset` that DRF's sync call sites would call and get a
coroutine from. daf_drf's generic views and viewsets answer those call sites
(`tests/test_sync_call_sites.py`), so the check is about views built on another base (DRF's own
generics with an async hook: a half-done migration).
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.test import override_settings
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics as drf_generics
from rest_framework.renderers import JSONRenderer

from daf_drf import generics
from daf_drf.checks.generics import check_async_get_queryset
from tests.browsable_api import AsyncQuerysetBookViewSet, BookSerializer
from tests.models import Book


class JSONOnly(drf_generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = BookSerializer
    renderer_classes = [JSONRenderer]

    async def get_queryset(self) -> Any:
        return Book.objects.all()


class JSONOnlyUnschemed(JSONOnly):
    schema = None


class JSONOnlyWithQueryset(JSONOnly):
    queryset = Book.objects.all()


class JSONOnlyWithDjangoFilter(JSONOnlyWithQueryset):
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["title"]


class BrowsableWithQueryset(drf_generics.ListAPIView):  # type: ignore[type-arg]
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    async def get_queryset(self) -> Any:
        return Book.objects.filter(pages__gt=0)


class HalfMigrated(drf_generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = BookSerializer

    async def get_queryset(self) -> Any:  # type: ignore[override]
        return Book.objects.all()


class DafJSONOnly(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = BookSerializer
    renderer_classes = [JSONRenderer]

    async def get_queryset(self) -> Any:
        return Book.objects.all()


class SyncGetQueryset(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = BookSerializer

    def get_queryset(self) -> Any:
        return Book.objects.all()


urlpatterns = [
    path("aq/", AsyncQuerysetBookViewSet.as_view({"get": "list"})),
    path("half/", HalfMigrated.as_view()),
    path("daf-json/", DafJSONOnly.as_view()),
    path("json/", JSONOnly.as_view()),
    path("json-unschemed/", JSONOnlyUnschemed.as_view()),
    path("json-with-queryset/", JSONOnlyWithQueryset.as_view()),
    path("json-django-filter/", JSONOnlyWithDjangoFilter.as_view()),
    path("browsable-with-queryset/", BrowsableWithQueryset.as_view()),
    path("sync/", SyncGetQueryset.as_view()),
]

SPECTACULAR = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}


def _reported() -> dict[str, str]:
    messages = check_async_get_queryset()
    assert {m.id for m in messages} <= {"daf_drf.W070"}
    return {m.obj.__name__: m.msg for m in messages}


@override_settings(ROOT_URLCONF=__name__)
def test_async_get_queryset_under_the_browsable_api_is_w070() -> None:
    message = _reported()["HalfMigrated"]
    assert "the browsable API" in message
    assert "/half/" in message


@override_settings(ROOT_URLCONF=__name__, REST_FRAMEWORK=SPECTACULAR)
def test_daf_drf_views_answer_the_sync_call_sites_and_are_not_reported() -> None:
    reported = _reported()
    assert "AsyncQuerysetBookViewSet" not in reported
    assert "DafJSONOnly" not in reported


@override_settings(ROOT_URLCONF=__name__)
def test_a_queryset_attribute_does_not_help_the_browsable_api() -> None:
    # DRF's filter form calls view.get_queryset() on every list page, attribute or not.
    assert "the browsable API" in _reported()["BrowsableWithQueryset"]


@override_settings(ROOT_URLCONF=__name__, REST_FRAMEWORK=SPECTACULAR)
def test_drf_spectacular_is_named_only_for_views_without_a_queryset_attribute() -> None:
    reported = _reported()
    assert "drf-spectacular" in reported["JSONOnly"]
    assert "browsable API" not in reported["JSONOnly"]
    assert "JSONOnlyWithQueryset" not in reported


@override_settings(ROOT_URLCONF=__name__)
def test_django_filter_schema_parameters_call_get_queryset_despite_the_attribute() -> None:
    message = _reported()["JSONOnlyWithDjangoFilter"]
    assert "django-filter's schema parameters" in message


@override_settings(ROOT_URLCONF=__name__, REST_FRAMEWORK=SPECTACULAR)
def test_views_no_sync_call_site_reaches_are_not_reported() -> None:
    reported = _reported()
    assert "JSONOnlyUnschemed" not in reported
    assert "SyncGetQueryset" not in reported


@override_settings(ROOT_URLCONF=__name__)
def test_drf_schema_without_django_filter_does_not_call_get_queryset() -> None:
    # DRF's own AutoSchema reads `view.queryset` and never calls `get_queryset()`.
    assert "JSONOnly" not in _reported()


@override_settings(ROOT_URLCONF=__name__, REST_FRAMEWORK=SPECTACULAR)
def test_w070_is_registered_with_django() -> None:
    found = {m.obj.__name__ for m in checks.run_checks() if m.id == "daf_drf.W070"}
    assert found == {
        "HalfMigrated",
        "JSONOnly",
        "JSONOnlyWithDjangoFilter",
        "BrowsableWithQueryset",
    }
