"""
The generics bar: a `ModelViewSet` (six-field `ModelSerializer` with one foreign key, page
size 100) behind DRF's `DefaultRouter` answers every route exactly as its DRF twin does:
status, body, `Allow`, `Vary`, `Content-Type`, `Location`, `WWW-Authenticate`, including
validation errors, 404s, permission denials and pagination links.

Both twins are mounted at the same path, one URLconf per side, so that pagination links
compare byte for byte; the database is reseeded (same rows, same next id) before each side
plays, so writes compare too.
"""

from __future__ import annotations

import json
import types
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.db import connection
from django.test import TestCase, override_settings
from django.urls import include, path
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics as drf_generics
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import CursorPagination, LimitOffsetPagination

from compat.differential import Call, Differential, Outcome, Scenario
from daf_drf import generics
from tests.books_api import BookSerializer, DafBookViewSet, DrfBookViewSet, router_urls
from tests.databases import reset_sequences
from tests.models import Author, Book


class IdCursor(CursorPagination):
    ordering = "-id"
    page_size = 20


class drf_twins:
    class FilteredBooks(drf_generics.ListAPIView):  # type: ignore[type-arg]
        queryset = Book.objects.all()
        serializer_class = BookSerializer
        filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
        filterset_fields = ["author", "published"]
        search_fields = ["title", "=isbn"]
        ordering_fields = ["price", "title", "id"]
        pagination_class = LimitOffsetPagination

    class CursorBooks(drf_generics.ListAPIView):  # type: ignore[type-arg]
        queryset = Book.objects.all()
        serializer_class = BookSerializer
        pagination_class = IdCursor


class daf_twins:
    class FilteredBooks(generics.ListAPIView):
        queryset = Book.objects.all()
        serializer_class = BookSerializer
        filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
        filterset_fields = ["author", "published"]
        search_fields = ["title", "=isbn"]
        ordering_fields = ["price", "title", "id"]
        pagination_class = LimitOffsetPagination

    class CursorBooks(generics.ListAPIView):
        queryset = Book.objects.all()
        serializer_class = BookSerializer
        pagination_class = IdCursor


def _urlconf(name: str, viewset: type, twins: type) -> types.ModuleType:
    module = types.ModuleType(name)
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("api/", include(router_urls(viewset))),
        path("api/filtered/", twins.FilteredBooks.as_view()),  # type: ignore[attr-defined]
        path("api/cursor/", twins.CursorBooks.as_view()),  # type: ignore[attr-defined]
    ]
    return module


DRF_URLS = _urlconf("compat.viewset_drf_urls", DrfBookViewSet, drf_twins)
DAF_URLS = _urlconf("compat.viewset_daf_urls", DafBookViewSet, daf_twins)


def reseed() -> None:
    """The same 250 books by two authors, and the same next ids, for each side."""
    Book.objects.all().delete()
    Author.objects.all().delete()
    authors = [
        Author.objects.create(id=1, name="Ursula"),
        Author.objects.create(id=2, name="Terry"),
    ]
    Book.objects.bulk_create(
        Book(
            id=i,
            title=f"Book {i}",
            isbn=f"{i:013d}",
            price=f"{10 + i % 7}.50",
            published=f"2020-01-{1 + i % 28:02d}" if i % 3 else None,
            author=authors[i % 2],
        )
        for i in range(1, 251)
    )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("UPDATE sqlite_sequence SET seq = 250 WHERE name = 'tests_book'")
            cursor.execute("UPDATE sqlite_sequence SET seq = 2 WHERE name = 'tests_author'")
    else:
        reset_sequences()


class SamePathDifferential(Differential):
    """Each side under its own URLconf, at the same path, over a freshly seeded database."""

    async def _play(self, target: Any, mount: str, steps: list[Any]) -> list[Outcome]:
        await sync_to_async(reseed)()
        urlconf = DRF_URLS if mount == "__drf__" else DAF_URLS
        with override_settings(ROOT_URLCONF=urlconf):
            return await super()._play(target, mount, steps)


NEW = {
    "title": "New",
    "isbn": "9990000000001",
    "price": "12.00",
    "published": "2021-05-04",
    "author": 2,
}


class ViewSetDifferentialTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.user = User.objects.create_user("reader", password="pw")

    def differential(self) -> SamePathDifferential:
        return SamePathDifferential("/api/books/", "/api/books/")

    async def test_reads_and_pagination_links(self) -> None:
        scenario = (
            Scenario()
            .get()
            .get("?page=2")
            .get("?page=3")
            .get("?page=4")
            .get("?page=abc")
            .get("?page=last")
            .get("1/")
            .get("250/")
            .get("999/")
            .get("abc/")
            .get("1.json")
            .get("?format=json")
            .call("HEAD")
            .call("HEAD", "7/")
        )
        await self.differential().run(scenario)

    async def test_api_root_and_options(self) -> None:
        diff = SamePathDifferential("/api/", "/api/")
        await diff.run(
            Scenario()
            .get()
            .get("books/")
            .call("OPTIONS", "books/")
            .call("OPTIONS", "books/", user=self.user)
            .call("OPTIONS", "books/1/", user=self.user)
            .call("OPTIONS", "books/999/", user=self.user)
        )

    async def test_permission_denials(self) -> None:
        bad_basic = {"Authorization": "Basic bm9ib2R5Om5vcGU="}
        scenario = (
            Scenario()
            .post("", data=NEW, format="json")
            .post("", data=NEW, format="json", headers=bad_basic)
            .call("PUT", "1/", data=NEW, format="json")
            .call("PATCH", "1/", data={"title": "x"}, format="json")
            .call("DELETE", "1/")
            .call("DELETE", "999/")
        )
        await self.differential().run(scenario)

    async def test_writes_and_validation_errors(self) -> None:
        user = self.user
        scenario = Scenario(
            [
                Call("POST", "", NEW, "json", user=user),
                Call("GET", "251/", user=user),
                Call("POST", "", NEW, "json", user=user),  # duplicate isbn
                Call("POST", "", {}, "json", user=user),
                Call("POST", "", {**NEW, "isbn": "2", "author": 99}, "json", user=user),
                Call(
                    "POST",
                    "",
                    {**NEW, "isbn": "3", "price": "abc", "published": "soon"},
                    "json",
                    user=user,
                ),
                Call("POST", "", '{"title": ', content_type="application/json", user=user),
                Call("POST", "", {**NEW, "isbn": "4"}, "multipart", user=user),
                Call("PUT", "1/", {**NEW, "isbn": "5"}, "json", user=user),
                Call("PUT", "2/", {"title": "only"}, "json", user=user),
                Call("PATCH", "3/", {"title": "patched"}, "json", user=user),
                Call("PATCH", "4/", {"isbn": "0000000000005"}, "json", user=user),
                Call("PATCH", "999/", {"title": "x"}, "json", user=user),
                Call("DELETE", "6/", user=user),
                Call("DELETE", "6/", user=user),
                Call("GET", "?page=3", user=user),
                Call("DELETE", "", user=user),
                Call("PUT", "", NEW, "json", user=user),
                Call("POST", "7/", NEW, "json", user=user),
            ]
        )
        outcomes = await self.differential().run(scenario)
        statuses = [o.status for o in outcomes]
        assert statuses == [
            201,
            200,
            400,
            400,
            400,
            400,
            400,
            201,
            200,
            400,
            200,
            400,
            404,
            204,
            404,
            200,
            405,
            405,
            405,
        ]


class FilterAndPaginationDifferentialTests(TestCase):
    """DRF's filter backends, django-filter and the other paginators, unchanged."""

    async def test_search_ordering_django_filter_and_limit_offset(self) -> None:
        diff = SamePathDifferential("/api/filtered/", "/api/filtered/")
        outcomes = await diff.run(
            Scenario()
            .get()
            .get("?limit=7&offset=14")
            .get("?author=2&ordering=-price,title&limit=5")
            .get("?search=Book 1&ordering=title&limit=10&offset=3")
            .get("?search=0000000000042")
            .get("?published=2020-01-05")
            .get("?published=not-a-date")
            .get("?author=99")
            .get("?ordering=nonsense&limit=2")
            .get("?limit=abc")
            .get("?offset=9999")
        )
        assert [o.status for o in outcomes] == [200] * 6 + [400, 400] + [200] * 3
        assert [b["isbn"] for b in json.loads(outcomes[4].body)] == ["0000000000042"]

    async def test_cursor_pagination_links_and_invalid_cursor(self) -> None:
        drf = await SamePathDifferential("/api/cursor/", "/api/cursor/").run(Scenario().get())
        next_link = json.loads(drf[0].body)["next"].removeprefix("http://testserver/api/cursor/")
        diff = SamePathDifferential("/api/cursor/", "/api/cursor/")
        await diff.run(Scenario().get(next_link).get("?cursor=bogus"))
