"""daf_drf.viewsets: async actions under DRF's names, routed by DRF's own routers."""

from __future__ import annotations

import asyncio
import base64
import inspect
import json
import os
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.contrib.auth.models import User
from django.core.handlers.asgi import ASGIHandler
from django.test import TestCase, override_settings
from rest_framework import permissions
from rest_framework import viewsets as drf_viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter, SimpleRouter

from daf_drf import viewsets
from daf_drf.test import AsyncAPIClient
from tests.asgi_client import connections_owned_by_the_test
from tests.books_api import (
    BookSerializer,
    DafBookViewSet,
    DrfBookViewSet,
    PageOf100,
    make_books,
    router_urls,
)
from tests.models import Book

actions_seen: list[str | None] = []


class AdminWritesBookViewSet(viewsets.ModelViewSet):
    queryset = Book.objects.all()
    serializer_class = BookSerializer
    pagination_class = PageOf100

    def get_permissions(self) -> list[Any]:
        actions_seen.append(self.action)
        if self.action in ("create", "update", "partial_update", "destroy"):
            return [permissions.IsAdminUser()]
        return super().get_permissions()

    @action(detail=True, methods=["post"], permission_classes=[permissions.AllowAny])
    async def rename(self, request: Any, pk: str | None = None) -> Response:
        book = await self.aget_object()
        book.title = request.data["title"]
        await book.asave(update_fields=["title"])
        return Response({"id": book.pk, "title": book.title})

    @action(detail=False)
    async def count(self, request: Any) -> Response:
        return Response({"count": await self.get_queryset().acount()})


class Shelf(viewsets.ViewSet):
    async def list(self, request: Any) -> Response:
        return Response({"action": self.action})

    async def retrieve(self, request: Any, pk: str | None = None) -> Response:
        return Response({"action": self.action, "pk": pk})


class ReadOnlyBooks(viewsets.ReadOnlyModelViewSet):
    queryset = Book.objects.all()
    serializer_class = BookSerializer


router = DefaultRouter()
router.register("books", AdminWritesBookViewSet)
router.register("shelves", Shelf, basename="shelf")
router.register("ro", ReadOnlyBooks, basename="ro")
urlpatterns = router.urls

ALL_CLASSES = ["ViewSet", "GenericViewSet", "ReadOnlyModelViewSet", "ModelViewSet"]


@pytest.mark.parametrize("name", ALL_CLASSES)
def test_every_viewset_is_its_drf_namesake(name: str) -> None:
    assert issubclass(getattr(viewsets, name), getattr(drf_viewsets, name))


@pytest.mark.parametrize(
    "name", ["list", "create", "retrieve", "update", "partial_update", "destroy"]
)
def test_model_viewset_actions_keep_drfs_names_and_are_async(name: str) -> None:
    assert inspect.iscoroutinefunction(getattr(viewsets.ModelViewSet, name))


def test_as_view_returns_a_coroutine_function_unlike_drfs() -> None:
    daf_view = DafBookViewSet.as_view({"get": "list"})
    drf_view = DrfBookViewSet.as_view({"get": "list"})
    assert iscoroutinefunction(daf_view)
    assert not iscoroutinefunction(drf_view)
    assert daf_view.cls is DafBookViewSet  # type: ignore[attr-defined]
    assert daf_view.actions == {"get": "list"}  # type: ignore[attr-defined]
    assert daf_view.csrf_exempt is True  # type: ignore[attr-defined]


def test_sync_action_is_a_type_error_at_class_definition() -> None:
    with pytest.raises(TypeError, match=r"Legacy\.list\(\) must be `async def`"):

        class Legacy(viewsets.ViewSet):
            def list(self, request: Any) -> Response:
                return Response()


def test_drfs_sync_mixin_in_front_of_a_daf_viewset_is_a_type_error() -> None:
    from rest_framework import mixins as drf_mixins

    with pytest.raises(TypeError, match=r"Mixed\.list\(\) must be `async def`"):

        class Mixed(drf_mixins.ListModelMixin, viewsets.GenericViewSet):  # type: ignore[misc]
            pass


def test_sync_extra_action_is_a_type_error_at_class_definition() -> None:
    with pytest.raises(TypeError, match=r"Extra\.publish\(\) must be `async def`"):

        class Extra(viewsets.ViewSet):
            @action(detail=True, methods=["post"])
            def publish(self, request: Any, pk: str | None = None) -> Response:
                return Response()


def test_mapping_a_sync_method_in_as_view_is_a_type_error() -> None:
    class WithHelper(viewsets.ViewSet):
        def helper(self, request: Any) -> Response:
            return Response()

    with pytest.raises(TypeError, match=r"WithHelper\.helper\(\) must be `async def`"):
        WithHelper.as_view({"get": "helper"})


def test_drf_routers_build_the_same_routes_as_for_drfs_viewset() -> None:
    for router_class in (SimpleRouter, DefaultRouter):
        daf = router_class()
        daf.register("books", DafBookViewSet)
        drf = router_class()
        drf.register("books", DrfBookViewSet)
        assert [(str(u.pattern), u.name) for u in daf.urls] == [
            (str(u.pattern), u.name) for u in drf.urls
        ]
    assert {u.name for u in router_urls(DafBookViewSet)} >= {"book-list", "book-detail"}


@override_settings(ROOT_URLCONF=__name__)
class RoutingTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(3)
        User.objects.create_superuser("admin", "a@example.com", "pw")

    def setUp(self) -> None:
        self.client = AsyncAPIClient()
        actions_seen.clear()

    async def test_self_action_is_drfs_action_name(self) -> None:
        await self.client.get("/books/")
        await self.client.get("/books/1/")
        await self.client.post("/books/", {}, format="json")
        await self.client.options("/books/")
        assert list(dict.fromkeys(actions_seen)) == ["list", "retrieve", "create", "metadata"]

    async def test_per_action_permissions_apply(self) -> None:
        listed = await self.client.get("/books/")
        created = await self.client.post("/books/", {"title": "x"}, format="json")
        assert listed.status_code == 200
        assert created.status_code == 403

    async def test_admin_runs_every_write_action(self) -> None:
        admin = await User.objects.aget(username="admin")
        self.client.force_authenticate(admin)
        payload = {"title": "New", "isbn": "9", "price": "1.00", "author": 1}
        created = await self.client.post("/books/", payload, format="json")
        pk = created.json()["id"]
        put = await self.client.put(f"/books/{pk}/", {**payload, "title": "Put"}, format="json")
        patch = await self.client.patch(f"/books/{pk}/", {"title": "Patched"}, format="json")
        delete = await self.client.delete(f"/books/{pk}/")
        assert [created.status_code, put.status_code, patch.status_code, delete.status_code] == [
            201,
            200,
            200,
            204,
        ]
        assert put.json()["title"] == "Put"
        assert patch.json()["title"] == "Patched"
        assert not await Book.objects.filter(pk=pk).aexists()
        assert list(dict.fromkeys(actions_seen)) == [
            "create",
            "update",
            "partial_update",
            "destroy",
        ]

    async def test_async_extra_actions_are_routed(self) -> None:
        renamed = await self.client.post("/books/2/rename/", {"title": "R"}, format="json")
        counted = await self.client.get("/books/count/")
        assert renamed.json() == {"id": 2, "title": "R"}
        assert counted.json() == {"count": 3}
        assert list(dict.fromkeys(actions_seen)) == ["rename", "count"]

    async def test_plain_viewset_list_and_retrieve_routes_exist(self) -> None:
        listed = await self.client.get("/shelves/")
        detail = await self.client.get("/shelves/7/")
        assert listed.json() == {"action": "list"}
        assert detail.json() == {"action": "retrieve", "pk": "7"}

    async def test_head_is_served_by_the_get_action(self) -> None:
        response = await self.client.head("/books/")
        assert response.status_code == 200
        assert actions_seen == ["list"]

    async def test_read_only_viewset_refuses_writes_with_405(self) -> None:
        response = await self.client.post("/ro/", {}, format="json")
        assert response.status_code == 405
        assert response.json() == {"detail": 'Method "POST" not allowed.'}

    async def test_browsable_api_renders_list_and_detail_pages(self) -> None:
        admin = await User.objects.aget(username="admin")
        self.client.force_authenticate(admin)
        for url in ("/books/", "/books/1/"):
            response = await self.client.get(url, headers={"Accept": "text/html"})
            assert response.status_code == 200
            assert response["Content-Type"] == "text/html; charset=utf-8"
            assert b"Admin Writes Book" in response.content

    async def test_api_root_lists_the_registered_viewsets(self) -> None:
        response = await self.client.get("/")
        assert set(response.json()) == {"books", "shelves", "ro"}


async def _asgi_request(
    method: str, path: str, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> tuple[int, bytes]:
    """One request through Django's real `ASGIHandler`."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [
            (b"host", b"testserver"),
            (b"content-length", str(len(body)).encode()),
            *(headers or []),
        ],
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.Event().wait()  # the client stays connected; Django cancels this
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with connections_owned_by_the_test():
        await ASGIHandler()(scope, receive, send)
    if not sent:
        raise AssertionError(f"{method} {path}: the handler sent nothing")
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


@override_settings(ROOT_URLCONF=__name__)
class AsgiHandlerTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(3)

    async def test_no_route_raises_synchronous_only_operation(self) -> None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
        json_body = [(b"content-type", b"application/json")]
        new = json.dumps({"title": "A", "isbn": "77", "price": "2.00", "author": 1}).encode()
        requests = [
            ("GET", "/", b"", 200),
            ("GET", "/books/", b"", 200),
            ("GET", "/books/1/", b"", 200),
            ("GET", "/books/99/", b"", 404),
            ("POST", "/books/", new, 403),
            ("POST", "/books/2/rename/", b'{"title": "Z"}', 200),
            ("GET", "/books/count/", b"", 200),
            ("OPTIONS", "/books/", b"", 200),
            ("GET", "/ro/", b"", 200),
            ("GET", "/ro/2/", b"", 200),
            ("GET", "/shelves/", b"", 200),
        ]
        for method, path, body, expected in requests:
            status, content = await _asgi_request(method, path, body, json_body)
            assert status == expected, (method, path, content)
        assert (await Book.objects.aget(pk=2)).title == "Z"

    async def test_authenticated_writes_through_asgi_handler(self) -> None:
        # Basic authentication queries the user table: a sync authenticator, run off the loop.
        await sync_to_async(User.objects.create_superuser)("root", "r@example.com", "pw")
        auth = [
            (b"content-type", b"application/json"),
            (b"authorization", b"Basic " + base64.b64encode(b"root:pw")),
        ]
        new = json.dumps({"title": "A", "isbn": "77", "price": "2.00", "author": 1}).encode()
        requests = [
            ("POST", "/books/", new, 201),
            ("POST", "/books/", new, 400),
            ("PUT", "/books/4/", new.replace(b'"A"', b'"B"'), 200),
            ("PATCH", "/books/4/", b'{"price": "3.00"}', 200),
            ("DELETE", "/books/4/", b"", 204),
            ("DELETE", "/books/4/", b"", 404),
            ("OPTIONS", "/books/1/", b"", 200),
        ]
        for method, path, body, expected in requests:
            status, content = await _asgi_request(method, path, body, auth)
            assert status == expected, (method, path, content)
        assert not await Book.objects.filter(pk=4).aexists()
