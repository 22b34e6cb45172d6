"""daf_drf.transaction: atomic blocks for async handlers, and ATOMIC_REQUESTS projects."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connections, transaction
from django.http import JsonResponse
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView as DrfAPIView

from daf_drf import generics, viewsets
from daf_drf.test import AsyncAPIClient
from daf_drf.transaction import atomic, check_atomic_requests
from tests.books_api import BookSerializer
from tests.models import AuditEntry, Author, Book

depths: list[int] = []


def savepoint_depth() -> int:
    return len(transaction.get_connection().savepoint_ids)


@contextlib.contextmanager
def atomic_requests() -> Iterator[None]:
    db = connections.settings["default"]
    db["ATOMIC_REQUESTS"] = True
    try:
        yield
    finally:
        db["ATOMIC_REQUESTS"] = False


@atomic
def write_two(fail: bool = False) -> int:
    AuditEntry.objects.create(message="first")
    if fail:
        raise ValueError("second write failed")
    AuditEntry.objects.create(message="second")
    return threading.get_ident()


class RecordingBooks(generics.ListCreateAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def perform_create(self, serializer: Any) -> None:
        depths.append(savepoint_depth())
        serializer.save()


class AtomicHookBooks(RecordingBooks):
    @atomic
    def perform_create(self, serializer: Any) -> None:
        serializer.save()
        AuditEntry.objects.create(message=f"created {serializer.instance.isbn}")
        if serializer.instance.title == "boom":
            raise ValueError("rolled back")


class BookViewSet(viewsets.ModelViewSet):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer


class DrfDepth(DrfAPIView):
    authentication_classes: list[Any] = []

    def get(self, request: Any) -> Response:
        return Response({"depth": savepoint_depth()})


async def plain_async_view(request: Any) -> JsonResponse:
    return JsonResponse({})


urlpatterns = [
    path("books/", RecordingBooks.as_view()),
    path("atomic-hook/", AtomicHookBooks.as_view()),
    path("vs/", BookViewSet.as_view({"get": "list"})),
    path("drf/", DrfDepth.as_view()),
    path("plain/", plain_async_view),
]
NEW = {"title": "t", "isbn": "1", "price": "1.00", "author": 1}


def test_atomic_refuses_an_async_function() -> None:
    with pytest.raises(TypeError, match=r"cannot wrap .*\.handler\(\) because it is `async def`"):

        @atomic
        async def handler() -> None:
            pass


def test_atomic_returns_a_coroutine_function_with_the_wrapped_name() -> None:
    import inspect

    assert inspect.iscoroutinefunction(write_two)
    assert write_two.__name__ == "write_two"


class AtomicTests(TestCase):
    async def test_atomic_function_runs_off_the_loop_and_commits(self) -> None:
        ident = await write_two()
        assert ident != threading.get_ident()
        assert await AuditEntry.objects.acount() == 2

    async def test_an_exception_rolls_back_every_write_of_the_block(self) -> None:
        with pytest.raises(ValueError, match="second write failed"):
            await write_two(fail=True)
        assert await AuditEntry.objects.acount() == 0

    async def test_atomic_takes_djangos_arguments(self) -> None:
        @atomic(using="default", savepoint=True)
        def depth() -> int:
            return savepoint_depth()

        outside = await atomic(savepoint_depth)()
        assert await depth() == outside


@override_settings(ROOT_URLCONF=__name__)
class ViewTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        Author.objects.create(name="A")

    def setUp(self) -> None:
        depths.clear()
        self.client = AsyncAPIClient()

    async def test_atomic_perform_create_rolls_back_the_save_and_its_audit_row(self) -> None:
        with pytest.raises(ValueError, match="rolled back"):
            await self.client.post("/atomic-hook/", {**NEW, "title": "boom"}, format="json")
        assert not await Book.objects.aexists()
        assert not await AuditEntry.objects.aexists()
        ok = await self.client.post("/atomic-hook/", NEW, format="json")
        assert ok.status_code == 201
        assert await AuditEntry.objects.filter(message="created 1").aexists()

    async def test_plain_async_view_shows_djangos_refusal(self) -> None:
        with atomic_requests(), pytest.raises(RuntimeError, match="ATOMIC_REQUESTS"):
            await self.client.get("/plain/")

    async def test_daf_views_and_viewsets_are_served_under_atomic_requests(self) -> None:
        with atomic_requests():
            generic = await self.client.get("/books/")
            viewset = await self.client.get("/vs/")
        assert (generic.status_code, viewset.status_code) == (200, 200)

    async def test_drf_sync_views_stay_atomic_under_atomic_requests(self) -> None:
        plain = (await self.client.get("/drf/")).json()["depth"]
        with atomic_requests():
            wrapped = (await self.client.get("/drf/")).json()["depth"]
        assert wrapped == plain + 1

    async def test_the_create_pipeline_is_atomic_under_atomic_requests(self) -> None:
        await self.client.post("/books/", NEW, format="json")
        with atomic_requests():
            await self.client.post("/books/", {**NEW, "isbn": "2"}, format="json")
        assert depths[1] == depths[0] + 1


class CheckTests(TestCase):
    def test_no_warning_without_atomic_requests(self) -> None:
        assert check_atomic_requests() == []

    def test_atomic_requests_is_warned_about_with_w040(self) -> None:
        with atomic_requests():
            messages = check_atomic_requests()
        assert [m.id for m in messages] == ["daf_drf.W040"]
        assert "default" in messages[0].msg

    def test_the_check_is_registered(self) -> None:
        from django.core.checks import run_checks

        with atomic_requests():
            ids = [m.id for m in run_checks()]
        assert "daf_drf.W040" in ids
