"""
Transactions under concurrent requests, on PostgreSQL.

Requests go through daf_drf's ASGI entry on an event loop of their own (as under a server),
so each request's sync work runs on its own thread with its own connection: two requests
really race. Data is committed (`TransactionTestCase`).

- `select_for_update` inside one `daf_drf.transaction.atomic` hop serializes two requests
  that update one row: no lost update.
- Without it, both read the same value and the second write wins: one update is lost (the
  documented behaviour, see docs/transactions.md).
- A write that fails inside the hop rolls the hop's earlier writes back, answers 500, and
  leaves the connection usable for the next request on the same thread.
- `ATOMIC_REQUESTS`: a generic view's write pipeline is one transaction.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from django.db import IntegrityError, connection, connections
from django.test import TransactionTestCase, override_settings
from django.urls import path
from rest_framework import serializers
from rest_framework.response import Response

from daf_drf import generics
from daf_drf.asgi import ASGIHandler
from daf_drf.transaction import atomic
from daf_drf.views import APIView
from tests.asgi_client import asgi_request, run_on_fresh_loop
from tests.databases import on_postgres
from tests.models import Author, Book

pytestmark = pytest.mark.skipif(
    not on_postgres(),
    reason="row locks and concurrent writers: SQLite has neither (one writer locks the whole "
    "database, select_for_update is a no-op); runs in the PostgreSQL pass of `make test`",
)

# Both unlocked requests have read the row before either writes.
READ_BARRIER = threading.Barrier(2, timeout=10)


@atomic
def add_page_locked(pk: int) -> int:
    book = Book.objects.select_for_update().get(pk=pk)
    time.sleep(0.1)  # the other request is waiting on the row lock meanwhile
    book.pages += 1
    book.save(update_fields=["pages"])
    return book.pages


@atomic
def add_page_unlocked(pk: int) -> int:
    book = Book.objects.get(pk=pk)
    READ_BARRIER.wait()
    book.pages += 1
    book.save(update_fields=["pages"])
    return book.pages


@atomic
def rename_then_fail(pk: int) -> None:
    Book.objects.filter(pk=pk).update(title="renamed")
    # A second book with the same ISBN: the database refuses it.
    Book.objects.create(title="copy", isbn=Book.objects.get(pk=pk).isbn, author_id=1)


def in_transaction() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() <> statement_timestamp()")
        row = cursor.fetchone()
    return bool(row and row[0])


class Open(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []


class Locked(Open):
    async def post(self, request: Any, pk: int) -> Response:
        return Response({"pages": await add_page_locked(pk)})


class Unlocked(Open):
    async def post(self, request: Any, pk: int) -> Response:
        return Response({"pages": await add_page_unlocked(pk)})


class Failing(Open):
    async def post(self, request: Any, pk: int) -> Response:
        await rename_then_fail(pk)
        return Response({"unreachable": True})


class State(Open):
    async def get(self, request: Any) -> Response:
        from asgiref.sync import sync_to_async

        return Response({"in_transaction": await sync_to_async(in_transaction)()})


class BookSerializer(serializers.ModelSerializer[Book]):
    class Meta:
        model = Book
        fields = ["id", "title", "isbn", "pages", "author"]


class UpdateThenFail(generics.UpdateAPIView[Book]):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def perform_update(self, serializer: Any) -> None:
        serializer.save()
        raise IntegrityError("after the save, inside the pipeline")


urlpatterns = [
    path("locked/<int:pk>/", Locked.as_view()),
    path("unlocked/<int:pk>/", Unlocked.as_view()),
    path("failing/<int:pk>/", Failing.as_view()),
    path("state/", State.as_view()),
    path("update-then-fail/<int:pk>/", UpdateThenFail.as_view()),
]


def serve_together(
    *calls: tuple[str, str],
    app: ASGIHandler | None = None,
    body: bytes = b"",
    one_by_one: bool = False,
) -> list[Any]:
    """
    Send the requests at once (or `one_by_one`) through daf_drf.asgi on a fresh loop, as a
    server does; return the results.
    """
    app = app or ASGIHandler(thread_pool_size=4)

    def send(method: str, url: str) -> Any:
        headers = [("content-type", "application/json")] if body else []
        return asgi_request(method, url, body, headers, app=app, own_connections=True)

    async def main() -> list[Any]:
        if not one_by_one:
            return await asyncio.gather(*(send(method, url) for method, url in calls))
        return [await send(method, url) for method, url in calls]

    # The pool's idle daemon threads hold no connection afterwards (CONN_MAX_AGE = 0).
    return run_on_fresh_loop(main)  # type: ignore[no-any-return]


@override_settings(ROOT_URLCONF=__name__)
class ConcurrentWritesTests(TransactionTestCase):
    def setUp(self) -> None:
        author = Author.objects.create(pk=1, name="Ursula")
        self.book = Book.objects.create(title="Original", isbn="1" * 13, author=author, pages=10)

    def test_select_for_update_in_one_hop_loses_no_update(self) -> None:
        url = f"/locked/{self.book.pk}/"
        results = serve_together(("POST", url), ("POST", url), ("POST", url))
        assert [r.status for r in results] == [200, 200, 200]
        assert sorted(r.json()["pages"] for r in results) == [11, 12, 13]
        self.book.refresh_from_db()
        assert self.book.pages == 13

    def test_without_select_for_update_the_second_write_wins(self) -> None:
        # Read-modify-write without a lock: both requests read 10 and both write 11. This is
        # the database's documented behaviour under READ COMMITTED, not something daf_drf
        # can prevent; the docs show select_for_update (above) or F() expressions instead.
        READ_BARRIER.reset()
        url = f"/unlocked/{self.book.pk}/"
        results = serve_together(("POST", url), ("POST", url))
        assert [r.status for r in results] == [200, 200]
        assert [r.json()["pages"] for r in results] == [11, 11]
        self.book.refresh_from_db()
        assert self.book.pages == 11

    def test_a_failed_write_rolls_back_the_hop_and_the_connection_stays_usable(self) -> None:
        # One pooled thread and a persistent connection: the second request runs on the
        # very connection whose transaction failed.
        connection.settings_dict["CONN_MAX_AGE"] = 60
        app = ASGIHandler(thread_pool_size=1)
        try:
            failed, state = serve_together(
                ("POST", f"/failing/{self.book.pk}/"), ("GET", "/state/"), app=app, one_by_one=True
            )
        finally:
            connection.settings_dict["CONN_MAX_AGE"] = 0
            assert app.pool is not None
            lease = app.pool.lease()
            lease.submit(connections.close_all).result(timeout=10)
            lease.release()
        assert failed.status == 500
        assert (state.status, state.json()) == (200, {"in_transaction": False})
        self.book.refresh_from_db()
        assert self.book.title == "Original"
        assert Book.objects.count() == 1

    def test_atomic_requests_make_the_generic_update_pipeline_one_transaction(self) -> None:
        connection.settings_dict["ATOMIC_REQUESTS"] = True
        try:
            body = b'{"title": "Changed", "isbn": "1111111111111", "pages": 99, "author": 1}'
            results = serve_together(("PUT", f"/update-then-fail/{self.book.pk}/"), body=body)
        finally:
            connection.settings_dict["ATOMIC_REQUESTS"] = False
        assert results[0].status == 500
        self.book.refresh_from_db()
        assert (self.book.title, self.book.pages) == ("Original", 10)
