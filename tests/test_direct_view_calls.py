"""
DRF-style tests keep working after the import swap.

DRF's tests call a view directly (`view(factory.get("/"))`) and get the `Response` back. A
daf_drf view does the same from sync code, and is awaitable from async code; Django still sees
an async view (ASGI awaits it, WSGI runs it through `async_to_sync`). DRF's sync test clients
(`APIClient`, `RequestsClient`, `APITestCase.client`) go through Django's WSGI handler.
"""

from __future__ import annotations

import inspect
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.contrib.auth.models import User
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from daf_drf import generics, viewsets
from daf_drf.decorators import api_view
from daf_drf.test import (
    APIClient,
    APIRequestFactory,
    APITestCase,
    AsyncAPIRequestFactory,
    RequestsClient,
    force_authenticate,
)
from daf_drf.views import APIView
from tests.books_api import BookSerializer, make_books
from tests.models import Book
from tests.support.hops import count_hops


class WhoAmI(APIView):
    permission_classes = [IsAuthenticated]

    async def get(self, request: Any) -> Response:
        user = await request.auser()
        return Response({"username": user.username})


@api_view(["GET"])
async def count_books(request: Any) -> Response:
    return Response({"books": await Book.objects.acount()})


class BookViewSet(viewsets.ModelViewSet):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer


class BookList(generics.ListCreateAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer


class Ping(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        return Response({"pong": True})


urlpatterns = [
    path("whoami/", WhoAmI.as_view()),
    path("count/", count_books),
    path("books/", BookList.as_view()),
]


class SyncDirectCallTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(2)
        cls.user = User.objects.create_user("ada")

    def test_calling_an_api_view_from_sync_code_returns_the_response(self) -> None:
        request = APIRequestFactory().get("/whoami/")
        force_authenticate(request, user=self.user)
        response = WhoAmI.as_view()(request)
        assert isinstance(response, Response)
        assert response.status_code == 200
        assert response.data == {"username": "ada"}

    def test_unauthenticated_direct_call_answers_drfs_403(self) -> None:
        response = WhoAmI.as_view()(APIRequestFactory().get("/whoami/"))
        assert response.status_code == 403

    def test_calling_an_api_view_function_from_sync_code_sees_the_test_transaction(
        self,
    ) -> None:
        response = count_books(APIRequestFactory().get("/count/"))
        assert response.data == {"books": 2}

    def test_calling_a_viewset_from_sync_code_lists_creates_and_deletes(self) -> None:
        factory = APIRequestFactory()
        listed = BookViewSet.as_view({"get": "list"})(factory.get("/"))
        created = BookViewSet.as_view({"post": "create"})(
            factory.post("/", {"title": "T", "isbn": "9", "author": 1}, format="json")
        )
        deleted = BookViewSet.as_view({"delete": "destroy"})(factory.delete("/"), pk=1)
        assert [book["id"] for book in listed.data] == [1, 2]
        assert created.status_code == 201
        assert deleted.status_code == 204
        assert list(Book.objects.values_list("isbn", flat=True)) == ["0000000000001", "9"]

    def test_a_rendered_direct_response_has_drfs_content(self) -> None:
        response = count_books(APIRequestFactory().get("/count/"))
        response.render()
        assert response.content == b'{"books":2}'

    def test_the_view_stays_a_coroutine_function_for_django(self) -> None:
        assert iscoroutinefunction(WhoAmI.as_view())
        assert iscoroutinefunction(count_books)
        assert iscoroutinefunction(BookViewSet.as_view({"get": "list"}))


class AsyncDirectCallTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(2)

    async def test_calling_a_view_on_the_event_loop_returns_an_awaitable(self) -> None:
        pending = count_books(AsyncAPIRequestFactory().get("/count/"))
        assert inspect.isawaitable(pending)
        assert (await pending).data == {"books": 2}

    async def test_the_async_path_adds_no_thread_hop(self) -> None:
        view = Ping.as_view()
        with count_hops() as hops:
            response = await view(AsyncAPIRequestFactory().get("/"))
        assert response.data == {"pong": True}
        assert hops == []

    async def test_a_wsgi_built_request_is_awaitable_on_the_loop_too(self) -> None:
        response = await BookViewSet.as_view({"get": "list"})(APIRequestFactory().get("/"))
        assert [book["id"] for book in response.data] == [1, 2]


@override_settings(ROOT_URLCONF=__name__)
class SyncClientTests(APITestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(2)
        cls.user = User.objects.create_user("ada")

    def test_api_test_case_client_reaches_a_daf_drf_view_through_wsgi(self) -> None:
        self.client.force_authenticate(user=self.user)
        response = self.client.get("/whoami/")
        assert response.status_code == 200
        assert response.json() == {"username": "ada"}

    def test_api_client_posts_to_a_daf_drf_view(self) -> None:
        client = APIClient()
        response = client.post("/books/", {"title": "T", "isbn": "9", "author": 1}, format="json")
        assert response.status_code == 201
        assert Book.objects.filter(isbn="9").exists()

    def test_requests_client_reaches_a_daf_drf_view(self) -> None:
        response = RequestsClient().get("http://testserver/count/")
        assert response.status_code == 200
        assert response.json() == {"books": 2}
