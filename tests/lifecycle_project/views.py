"""
Views of the connection-lifecycle server: each kind of database use an async DRF endpoint
makes. Every request first asks the server whether its connection is outside a transaction
(`now() = statement_timestamp()` holds only for a statement that starts its own transaction)
and answers it in `X-Clean`: a request that finds a transaction another request left open
answers `X-Clean: 0`.
"""

from __future__ import annotations

import itertools
from typing import Any

from asgiref.sync import sync_to_async
from django.db import connection, transaction
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from daf_drf.serializers import adata
from daf_drf.transaction import atomic
from daf_drf.views import APIView
from tests.models import AuditEntry, Book


def outside_a_transaction() -> bool:
    """Ask the server whether this connection is outside a transaction (sync)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() = statement_timestamp()")
        row = cursor.fetchone()
    return bool(row and row[0])


def clean(response: Response, ok: bool) -> Response:
    response["X-Clean"] = "1" if ok else "0"
    return response


class AsyncORM(APIView):
    """Token auth, then async ORM calls (each one `sync_to_async` hop inside Django)."""

    async def get(self, request: Any) -> Response:
        ok = await sync_to_async(outside_a_transaction)()
        count = await Book.objects.acount()
        first = await Book.objects.order_by("id").afirst()
        return clean(Response({"count": count, "first": first.pk if first else None}), ok)


class BooksExist(BasePermission):
    """A project's sync permission that queries the ORM: runs in one thread hop."""

    def has_permission(self, request: Any, view: Any) -> bool:
        request.lifecycle_clean = outside_a_transaction()
        return Book.objects.exists()


class SyncHook(APIView):
    permission_classes = [BooksExist]

    async def get(self, request: Any) -> Response:
        return clean(Response({"ok": True}), request.lifecycle_clean)


class BookSerializer(serializers.ModelSerializer[Book]):
    class Meta:
        model = Book
        fields = ["id", "title", "isbn", "author"]


class AsyncData(APIView):
    """A queryset serialized with `adata` (one hop for the whole `.data`)."""

    async def get(self, request: Any) -> Response:
        ok = await sync_to_async(outside_a_transaction)()
        serializer = BookSerializer(Book.objects.order_by("id")[:5], many=True)
        return clean(Response(await adata(serializer)), ok)


@atomic
def write_then_fail(user_id: int) -> None:
    AuditEntry.objects.create(message="must be rolled back", user_id=user_id)
    raise RuntimeError("the handler raises inside its transaction")


class Boom(APIView):
    """A handler that raises after a write, inside `daf_drf.transaction.atomic`: a 500."""

    async def get(self, request: Any) -> Response:
        await sync_to_async(outside_a_transaction)()
        await write_then_fail(request.user.pk)
        return Response({"unreachable": True})


# Which of the 20 seeded books the next slow request locks. Requests lock different rows, so
# that they wait on their own queries and not on each other: one shared row would queue every
# slow request behind the last (50 ms each, one at a time), which is what made this test's
# run time, not the server's work.
_next_book = itertools.count()


def lock_and_wait() -> bool:
    ok = outside_a_transaction()
    isbn = f"{next(_next_book) % 20:013d}"
    with transaction.atomic():
        locked = Book.objects.select_for_update().filter(isbn=isbn).first()
        assert locked is not None, f"no seeded book with isbn {isbn}"
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.05)")
    return ok


class Slow(APIView):
    """A query the client does not wait for: it disconnects while the hop runs."""

    async def get(self, request: Any) -> Response:
        ok = await sync_to_async(lock_and_wait)()
        return clean(Response({"slept": True}), ok)
