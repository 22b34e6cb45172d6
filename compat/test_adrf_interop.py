"""
adrf interop: code written for adrf runs on daf_drf after an import swap.

`written_against(views, decorators)` is one small API written the adrf way (adrf's
`AsyncBasePermission` classes and operators, adrf `ModelSerializer`s with `adata`/`asave`,
`async def` handlers, sync validation in a thread as adrf's docs do it). It is built twice:
with `adrf.views.APIView` / `adrf.decorators.api_view`, and with `daf_drf.views.APIView` /
`daf_drf.decorators.api_view`. Both are served by this module's URLconf and must answer alike.
The differences daf_drf keeps on purpose (DRF's permission order; decorated async hooks never
fail open) are asserted too; `docs/migrating-from-adrf.md` lists them with the reason.
"""

from __future__ import annotations

from tests.adrf_support import require_adrf

require_adrf()

import functools
import json
from types import SimpleNamespace
from typing import Any

import adrf.decorators
import adrf.routers
import adrf.views
import adrf.viewsets
from adrf.permissions import AsyncBasePermission
from adrf.serializers import ModelSerializer
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.test import AsyncClient, TestCase, override_settings
from django.urls import path
from rest_framework import permissions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

import daf_drf.decorators
import daf_drf.views
import daf_drf.viewsets
from tests.databases import reset_sequences
from tests.models import Author, Book

# --- adrf-style permissions --------------------------------------------------------------


class IsEditor(AsyncBasePermission):
    """Writes need the `editors` group (an async ORM query)."""

    message = "Editors only."
    code = "not_editor"

    async def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return await request.user.groups.filter(name="editors").aexists()


class IsBanned(AsyncBasePermission):
    async def has_permission(self, request: Any, view: Any) -> bool:
        return request.headers.get("X-Banned") == "1"


class IsOwnAuthor(AsyncBasePermission):
    message = "Not your author."

    async def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return bool(obj.name == request.user.username)


class SyncDeny(BasePermission):
    message = "sync denied first"

    def has_permission(self, request: Any, view: Any) -> bool:
        return False


class AsyncDeny(AsyncBasePermission):
    message = "async denied second"

    async def has_permission(self, request: Any, view: Any) -> bool:
        return False


def logged(func: Any) -> Any:
    """An ordinary decorator: the wrapper is a plain function returning a coroutine."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


class DecoratedDeny(AsyncBasePermission):
    message = "decorated async permission denied"

    @logged
    async def has_permission(self, request: Any, view: Any) -> bool:
        return False


# --- adrf serializers ----------------------------------------------------------------------


class AuthorSerializer(ModelSerializer):  # type: ignore[misc]
    class Meta:
        model = Author
        fields = ["id", "name"]


class BookSerializer(ModelSerializer):  # type: ignore[misc]
    class Meta:
        model = Book
        fields = ["id", "title", "isbn", "pages", "author"]


# --- the API, written once against adrf's interface ---------------------------------------


def written_against(views: Any, decorators: Any) -> SimpleNamespace:
    APIView = views.APIView

    class AuthorList(APIView):  # type: ignore[misc, valid-type]
        authentication_classes = [TokenAuthentication]
        permission_classes = [permissions.IsAuthenticatedOrReadOnly & IsEditor & ~IsBanned]

        async def get(self, request: Any) -> Response:
            authors = [a async for a in Author.objects.order_by("id")]
            return Response(await AuthorSerializer(authors, many=True).adata)

        async def post(self, request: Any) -> Response:
            serializer = AuthorSerializer(data=request.data)
            await sync_to_async(serializer.is_valid)(raise_exception=True)
            await serializer.asave()
            return Response(await serializer.adata, status=201)

    class AuthorDetail(APIView):  # type: ignore[misc, valid-type]
        authentication_classes = [TokenAuthentication]
        permission_classes = [permissions.IsAuthenticated, IsOwnAuthor]

        async def get(self, request: Any, pk: int) -> Response:
            author = await Author.objects.aget(pk=pk)
            await sync_to_async(self.check_object_permissions)(request, author)
            return Response(await AuthorSerializer(author).adata)

        async def patch(self, request: Any, pk: int) -> Response:
            author = await Author.objects.aget(pk=pk)
            await sync_to_async(self.check_object_permissions)(request, author)
            serializer = AuthorSerializer(author, data=request.data, partial=True)
            await sync_to_async(serializer.is_valid)(raise_exception=True)
            await serializer.asave()
            return Response(await serializer.adata)

    class BookCreate(APIView):  # type: ignore[misc, valid-type]
        authentication_classes = [TokenAuthentication]
        permission_classes = [permissions.IsAuthenticated]

        async def post(self, request: Any) -> Response:
            serializer = BookSerializer(data=request.data)
            await sync_to_async(serializer.is_valid)(raise_exception=True)
            book = await serializer.asave()
            return Response({"created": await BookSerializer(book).adata}, status=201)

    @decorators.api_view(["GET"])
    async def book_count(request: Any) -> Response:
        return Response({"books": await Book.objects.acount()})

    return SimpleNamespace(
        AuthorList=AuthorList,
        AuthorDetail=AuthorDetail,
        BookCreate=BookCreate,
        book_count=book_count,
    )


ADRF = written_against(adrf.views, adrf.decorators)
DAF = written_against(daf_drf.views, daf_drf.decorators)


def viewset_written_against(viewsets: Any) -> type:
    """A `ViewSet` with DRF's action names, `async def`: the shape of adrf's README."""

    class AuthorViewSet(viewsets.ViewSet):  # type: ignore[misc, name-defined]
        authentication_classes: list[Any] = []
        permission_classes = [permissions.AllowAny]

        async def list(self, request: Any) -> Response:
            authors = [a async for a in Author.objects.order_by("id")]
            data = await AuthorSerializer(authors, many=True).adata
            return Response({"action": self.action, "authors": data})

        async def retrieve(self, request: Any, pk: Any = None) -> Response:
            author = await Author.objects.aget(pk=pk)
            return Response({"action": self.action, **await AuthorSerializer(author).adata})

    return AuthorViewSet


def _router(prefix: str, viewset: type, router_class: type = SimpleRouter) -> Any:
    router = router_class()
    router.register(prefix, viewset, basename=f"{prefix}-author")
    return router


ADRF_VIEWSET = viewset_written_against(adrf.viewsets)
DAF_VIEWSET = viewset_written_against(daf_drf.viewsets)


class DafOrder(daf_drf.views.APIView):
    authentication_classes: list[Any] = []
    permission_classes = [SyncDeny, AsyncDeny]

    async def get(self, request: Any) -> Response:
        return Response({"reached": True})


class AdrfOrder(adrf.views.APIView):
    authentication_classes: list[Any] = []
    permission_classes = [SyncDeny, AsyncDeny]

    async def get(self, request: Any) -> Response:
        return Response({"reached": True})


class DafDecorated(DafOrder):
    permission_classes = [DecoratedDeny]


def _routes(prefix: str, api: SimpleNamespace) -> list[Any]:
    return [
        path(f"{prefix}/authors/", api.AuthorList.as_view()),
        path(f"{prefix}/authors/<int:pk>/", api.AuthorDetail.as_view()),
        path(f"{prefix}/books/", api.BookCreate.as_view()),
        path(f"{prefix}/books/count/", api.book_count),
    ]


urlpatterns = [
    *_routes("adrf", ADRF),
    *_routes("daf", DAF),
    path("order/daf/", DafOrder.as_view()),
    path("order/adrf/", AdrfOrder.as_view()),
    path("decorated/daf/", DafDecorated.as_view()),
    *_router("adrf/vs", ADRF_VIEWSET).urls,
    *_router("daf/vs", DAF_VIEWSET).urls,
]


@override_settings(ROOT_URLCONF=__name__)
class ImportSwapTests(TestCase):
    """The adrf-written API answers the same on adrf and, after the import swap, on daf_drf."""

    @classmethod
    def setUpTestData(cls) -> None:
        from django.contrib.auth.models import Group

        users = get_user_model()
        cls.editor = users.objects.create_user("ada", password="pw")
        cls.editor.groups.add(Group.objects.create(name="editors"))
        cls.reader = users.objects.create_user("bea", password="pw")
        Token.objects.create(user=cls.editor, key="e" * 40)
        Token.objects.create(user=cls.reader, key="r" * 40)
        Author.objects.create(pk=1, name="ada")
        Author.objects.create(pk=2, name="turing")

    async def _both(
        self, method: str, url: str, body: Any = None, token: str = "", **headers: str
    ) -> tuple[Any, Any]:
        answers = []
        for prefix in ("adrf", "daf"):
            savepoint = await sync_to_async(_savepoint)()
            # PostgreSQL's sequences ignore the rollback: both sides' new rows get one id.
            await sync_to_async(reset_sequences)()
            try:
                client = AsyncClient()
                if token:
                    headers["Authorization"] = f"Token {token * 40}"
                response = await client.generic(
                    method,
                    f"/{prefix}/{url}",
                    data=json.dumps(body) if body is not None else "",
                    content_type="application/json",
                    headers=headers,
                )
                answers.append((response.status_code, json.loads(response.content or b"null")))
            finally:
                await sync_to_async(_rollback)(savepoint)
        return answers[0], answers[1]

    async def assertSame(self, expected_status: int, *args: Any, **kwargs: Any) -> None:
        adrf_answer, daf_answer = await self._both(*args, **kwargs)
        assert adrf_answer[0] == expected_status, adrf_answer
        assert daf_answer == adrf_answer

    async def test_list_with_adata_many(self) -> None:
        await self.assertSame(200, "GET", "authors/")

    async def test_create_with_asave_and_adata(self) -> None:
        await self.assertSame(201, "POST", "authors/", {"name": "hopper"}, token="e")

    async def test_validation_error_from_a_unique_validator(self) -> None:
        await self.assertSame(400, "POST", "authors/", {"name": "ada"}, token="e")

    async def test_async_permission_denies_with_its_message_and_code(self) -> None:
        await self.assertSame(403, "POST", "authors/", {"name": "knuth"}, token="r")

    async def test_negated_async_operand_in_a_composed_permission(self) -> None:
        await self.assertSame(
            403, "POST", "authors/", {"name": "knuth"}, token="e", **{"X-Banned": "1"}
        )

    async def test_anonymous_write_is_refused_before_async_permissions(self) -> None:
        await self.assertSame(401, "POST", "authors/", {"name": "knuth"})

    async def test_async_object_permission_through_the_sync_call_site(self) -> None:
        await self.assertSame(200, "GET", "authors/1/", token="e")
        await self.assertSame(403, "GET", "authors/2/", token="e")

    async def test_partial_update_with_asave(self) -> None:
        await self.assertSame(200, "PATCH", "authors/1/", {"name": "ada"}, token="e")
        await self.assertSame(403, "PATCH", "authors/2/", {"name": "x"}, token="e")

    async def test_foreign_key_serializer_asave(self) -> None:
        book = {"title": "Notes", "isbn": "1234567890123", "pages": 30, "author": 1}
        await self.assertSame(201, "POST", "books/", book, token="r")
        await self.assertSame(400, "POST", "books/", {**book, "author": 99}, token="r")

    async def test_async_function_view(self) -> None:
        await self.assertSame(200, "GET", "books/count/")

    async def test_viewset_routed_by_drfs_router_keeps_drfs_action_names(self) -> None:
        await self.assertSame(200, "GET", "vs/")
        await self.assertSame(200, "GET", "vs/2/")
        _, daf = await self._both("GET", "vs/")
        assert daf[1]["action"] == "list"


def _savepoint() -> str:
    from django.db import transaction

    # Django 6.1 renamed `savepoint()` to `savepoint_create()` (the old name warns).
    create = getattr(transaction, "savepoint_create", None) or transaction.savepoint
    return create()  # type: ignore[no-any-return]


def _rollback(savepoint: str) -> None:
    from django.db import transaction

    transaction.savepoint_rollback(savepoint)


@override_settings(ROOT_URLCONF=__name__)
class KeptDifferencesTests(TestCase):
    """Where daf_drf answers differently from adrf, it answers what DRF answers."""

    async def test_permissions_are_checked_in_declared_order_like_drf(self) -> None:
        daf = await AsyncClient().get("/order/daf/")
        assert daf.status_code == 403
        assert daf.json() == {"detail": "sync denied first"}

    async def test_adrf_checks_async_permissions_before_sync_ones(self) -> None:
        adrf_response = await AsyncClient().get("/order/adrf/")
        assert adrf_response.status_code == 403
        assert adrf_response.json() == {"detail": "async denied second"}

    def test_drfs_router_routes_an_async_viewset_adrfs_router_drops_its_routes(self) -> None:
        # adrf's router looks for `alist`/`aretrieve` on async viewsets; daf_drf needs none.
        assert len(_router("x", DAF_VIEWSET).urls) == 2
        assert len(_router("x", ADRF_VIEWSET, adrf.routers.SimpleRouter).urls) == 0

    async def test_decorated_async_permission_denies(self) -> None:
        response = await AsyncClient().get("/decorated/daf/")
        assert response.status_code == 403
        assert response.json() == {"detail": "decorated async permission denied"}
