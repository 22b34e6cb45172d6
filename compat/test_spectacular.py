"""
drf-spectacular documents a daf_drf viewset or generic view exactly as its DRF twin: the
generated OpenAPI documents are compared whole.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from django.urls import path
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from daf_drf import generics, viewsets
from daf_drf.decorators import action
from tests.books_api import (
    BookSerializer,
    DafBookList,
    DafBookViewSet,
    DrfBookList,
    DrfBookViewSet,
    PageOf100,
    router_urls,
)
from tests.models import Book

SPECTACULAR = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}


def schema(patterns: list[Any]) -> dict[str, Any]:
    with override_settings(REST_FRAMEWORK=SPECTACULAR):
        return SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)  # type: ignore[no-any-return]


class Titles(serializers.Serializer):  # type: ignore[type-arg]
    titles = serializers.ListField(child=serializers.CharField())


def _extra_actions(base: type, decorator: Any) -> type:
    """A twin of `base` with a documented extra action, built with either side's `@action`."""

    async def titles(self: Any, request: Any) -> Any:
        """Every title, in one list."""

    def sync_titles(self: Any, request: Any) -> Any:
        """Every title, in one list."""

    func = titles if issubclass(base, viewsets.ViewSetMixin) else sync_titles
    func.__name__ = "titles"
    attrs = {"titles": decorator(detail=False, serializer_class=Titles)(func)}
    return type("BookViewSet", (base,), attrs)


def test_model_viewset_schema_is_drfs() -> None:
    drf = schema(router_urls(DrfBookViewSet))
    daf = schema(router_urls(DafBookViewSet))
    assert set(drf["paths"]) == {"/books/", "/books/{id}/"}
    assert daf == drf


def test_list_create_view_schema_is_drfs_including_201_for_create() -> None:
    drf = schema([path("books/", DrfBookList.as_view())])
    daf = schema([path("books/", DafBookList.as_view())])
    assert "201" in drf["paths"]["/books/"]["post"]["responses"]
    assert daf == drf


@pytest.mark.parametrize(
    "name",
    [
        "RetrieveUpdateDestroyAPIView",
        "RetrieveAPIView",
        "UpdateAPIView",
        "DestroyAPIView",
        "CreateAPIView",
    ],
)
def test_every_detail_generic_documents_like_drfs(name: str) -> None:
    from rest_framework import generics as drf_generics

    attrs = {"queryset": Book.objects.all(), "serializer_class": BookSerializer}
    drf_view = type("BookView", (getattr(drf_generics, name),), attrs)
    daf_view = type("BookView", (getattr(generics, name),), attrs)
    drf = schema([path("books/<int:pk>/", drf_view.as_view())])
    daf = schema([path("books/<int:pk>/", daf_view.as_view())])
    assert daf == drf


def test_extra_action_schema_is_drfs() -> None:
    from rest_framework.decorators import action as drf_action

    drf = schema(router_urls(_extra_actions(DrfBookViewSet, drf_action)))
    daf = schema(router_urls(_extra_actions(DafBookViewSet, action)))
    assert drf["paths"]["/books/titles/"]["get"]["description"] == "Every title, in one list."
    assert daf == drf


def test_async_get_serializer_class_documents_like_a_sync_one() -> None:
    class AsyncSerializerClass(generics.ListCreateAPIView):
        queryset = Book.objects.all()
        pagination_class = PageOf100

        async def get_serializer_class(self) -> Any:
            return BookSerializer

    drf = schema([path("books/", DrfBookList.as_view())])
    daf = schema([path("books/", type("BookList", (AsyncSerializerClass,), {}).as_view())])
    assert daf["components"] == drf["components"]
    assert (
        daf["paths"]["/books/"]["post"]["requestBody"]
        == (drf["paths"]["/books/"]["post"]["requestBody"])
    )
