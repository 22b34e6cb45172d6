"""
An `async def get_queryset` (no `queryset` attribute) answers DRF's own sync call sites: the
browsable API's filter form, django-filter's schema parameters and the schema generators call
`view.get_queryset()` synchronously and get the queryset (through one `async_to_sync` from
their worker thread), while daf_drf's dispatch awaits it on the loop as before.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

from asgiref.sync import sync_to_async
from django.test import TestCase, override_settings
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.generators import SchemaGenerator
from rest_framework.filters import SearchFilter

from daf_drf import generics, viewsets
from daf_drf.test import AsyncAPIClient
from tests.books_api import BookSerializer, make_books
from tests.models import Book


class AsyncQuerysetList(generics.ListCreateAPIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    serializer_class = BookSerializer
    filter_backends = [DjangoFilterBackend, SearchFilter]
    filterset_fields = ["title"]
    search_fields = ["title"]

    async def get_queryset(self) -> Any:
        return Book.objects.order_by("id")


class NarrowedList(AsyncQuerysetList):
    async def get_queryset(self) -> Any:
        queryset = await super().get_queryset()
        return queryset.filter(id__lte=2)


class AsyncQuerysetViewSet(viewsets.ModelViewSet):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    serializer_class = BookSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["title"]

    async def get_queryset(self) -> Any:
        return Book.objects.order_by("id")


urlpatterns = [
    path("list/", AsyncQuerysetList.as_view()),
    path("narrow/", NarrowedList.as_view()),
    path("vs/", AsyncQuerysetViewSet.as_view({"get": "list", "post": "create"})),
    path("vs/<int:pk>/", AsyncQuerysetViewSet.as_view({"get": "retrieve", "put": "update"})),
]


@override_settings(ROOT_URLCONF=__name__)
class BrowsableAPITests(TestCase):
    client_class = AsyncAPIClient

    @classmethod
    def setUpTestData(cls) -> None:
        make_books(3)

    async def test_the_list_page_renders_its_filter_form(self) -> None:
        response = await self.client.get("/list/", headers={"Accept": "text/html"})
        assert response.status_code == 200
        page = response.content.decode()
        assert "Filters" in page  # DRF shows the button only when a backend rendered a form
        assert 'name="title"' in page
        assert "Book 1" in page

    async def test_the_viewset_pages_render(self) -> None:
        listing = await self.client.get("/vs/", headers={"Accept": "text/html"})
        detail = await self.client.get("/vs/2/", headers={"Accept": "text/html"})
        assert (listing.status_code, detail.status_code) == (200, 200)
        assert "Filters" in listing.content.decode()
        assert "<form" in detail.content.decode()

    async def test_json_is_unchanged(self) -> None:
        response = await self.client.get("/narrow/?search=Book")
        assert [book["id"] for book in response.json()] == [1, 2]

    async def test_on_the_loop_the_hook_is_awaitable(self) -> None:
        view = AsyncQuerysetList()
        result = view.get_queryset()
        assert inspect.isawaitable(result)
        assert [book.id async for book in await result] == [1, 2, 3]

    async def test_from_a_worker_thread_the_hook_answers_the_queryset(self) -> None:
        view = NarrowedList()
        queryset = await sync_to_async(lambda: view.get_queryset())()
        assert await sync_to_async(lambda: [book.id for book in queryset])() == [1, 2]


@override_settings(
    ROOT_URLCONF=__name__,
    REST_FRAMEWORK={"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"},
)
class SchemaTests(TestCase):
    def test_spectacular_finds_the_model_and_the_filter_parameters(self) -> None:
        with warnings.catch_warnings():
            # No "coroutine was never awaited", no drf-spectacular warning.
            warnings.simplefilter("error")
            schema = SchemaGenerator().get_schema(request=None, public=True)
        parameters = {p["name"] for p in schema["paths"]["/list/"]["get"]["parameters"]}
        assert {"title", "search"} <= parameters
        # The path parameter's type comes from the model the queryset names.
        (pk,) = schema["paths"]["/vs/{id}/"]["get"]["parameters"]
        assert pk["schema"]["type"] == "integer"
