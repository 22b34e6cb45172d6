"""daf_drf.generics: DRF's generic views with async handlers and sync-or-async hooks."""

from __future__ import annotations

import inspect
import os
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.test import TestCase, override_settings
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, permissions, serializers
from rest_framework import generics as drf_generics
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.response import Response

from daf_drf import generics
from daf_drf.test import AsyncAPIClient, AsyncAPIRequestFactory
from tests.books_api import BookSerializer, PageOf100, make_books
from tests.models import Author, Book
from tests.support.hops import count_hops

CONCRETE = [
    "CreateAPIView",
    "ListAPIView",
    "RetrieveAPIView",
    "DestroyAPIView",
    "UpdateAPIView",
    "ListCreateAPIView",
    "RetrieveUpdateAPIView",
    "RetrieveDestroyAPIView",
    "RetrieveUpdateDestroyAPIView",
]

seen_threads: list[int] = []


class RecordingSearch(SearchFilter):
    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        seen_threads.append(threading.get_ident())
        return super().filter_queryset(request, queryset, view)


class BookList(generics.ListAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer
    pagination_class = PageOf100
    filter_backends = [RecordingSearch, OrderingFilter]
    search_fields = ["title"]
    ordering_fields = ["id", "title"]


class BookListLimitOffset(BookList):
    pagination_class = LimitOffsetPagination


class IdCursor(CursorPagination):
    ordering = "id"
    page_size = 10


class BookListCursor(BookList):
    pagination_class = IdCursor


class BookListDjangoFilter(generics.ListAPIView):
    queryset = Book.objects.all()
    serializer_class = BookSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_fields = ["author", "isbn"]


class AuthorBooksSyncQuery(generics.ListAPIView):
    serializer_class = BookSerializer

    def get_queryset(self) -> Any:
        # A sync hook that queries the database right away.
        author = Author.objects.get(name=self.kwargs["name"])
        return Book.objects.filter(author=author)


class AuthorBooksAsync(generics.ListAPIView):
    serializer_class = BookSerializer

    async def get_queryset(self) -> Any:
        author = await Author.objects.aget(name=self.kwargs["name"])
        return Book.objects.filter(author=author)


class TitlesOnly(BookSerializer):
    class Meta(BookSerializer.Meta):
        fields = ["title"]


class AsyncHooksList(generics.ListAPIView):
    queryset = Book.objects.all()
    pagination_class = PageOf100

    async def get_serializer_class(self) -> Any:
        return TitlesOnly

    async def filter_queryset(self, queryset: Any) -> Any:
        return queryset.filter(title__endswith="1")

    async def paginate_queryset(self, queryset: Any) -> Any:
        return await sync_to_async(self.paginator.paginate_queryset)(queryset, self.request, self)

    async def get_paginated_response(self, data: Any) -> Any:
        return Response({"async": True, "results": data})


class DeniedForOddIds(permissions.BasePermission):
    message = "Odd books are private."

    async def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return obj.pk % 2 == 0


class BookDetail(generics.RetrieveUpdateDestroyAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer
    permission_classes = [DeniedForOddIds]


serialized: list[int] = []


class RecordingBookSerializer(BookSerializer):
    """Records which books it serialized: a denied object must never reach it."""

    def to_representation(self, instance: Any) -> Any:
        serialized.append(instance.pk)
        return super().to_representation(instance)


class SyncDeniedForOddIds(permissions.BasePermission):
    message = "Odd books are private (sync)."

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return obj.pk % 2 == 0


class PlainDetail(generics.RetrieveUpdateAPIView):
    """Only permissions whose object check is DRF's default: the lookup joins the next hop."""

    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny]
    queryset = Book.objects.all()
    serializer_class = RecordingBookSerializer


class SyncGuardedDetail(PlainDetail):
    permission_classes = [permissions.AllowAny, SyncDeniedForOddIds]


class AsyncObjectCheckOverride(PlainDetail):
    """A project's own `acheck_object_permissions`: never skipped by the one-hop lookup."""

    async def acheck_object_permissions(self, request: Any, obj: Any) -> None:
        if obj.pk % 2:
            raise exceptions.PermissionDenied("odd (async override)")
        await super().acheck_object_permissions(request, obj)


class SyncObjectCheckOverride(PlainDetail):
    """A project's own sync `check_object_permissions`, as DRF projects write it."""

    def check_object_permissions(self, request: Any, obj: Any) -> None:
        if obj.pk % 2:
            raise exceptions.PermissionDenied("odd (sync override)")
        super().check_object_permissions(request, obj)


class CompositeGuardedDetail(PlainDetail):
    # `|` asks each operand's has_permission too (DRF #6402): never fused.
    permission_classes = [permissions.AllowAny | SyncDeniedForOddIds]


class BookByIsbn(generics.RetrieveAPIView):
    queryset = Book.objects.all()
    serializer_class = BookSerializer
    lookup_field = "isbn"

    def get_object(self) -> Any:
        # A sync override: DRF's own shape, with a database query.
        return Book.objects.get(isbn=self.kwargs["isbn"].zfill(13))


class TitleStartsWith:
    """A filter backend whose `filter_queryset` is `async def`."""

    async def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        prefix = request.query_params.get("prefix", "")
        return queryset.filter(title__startswith=prefix)


class AsyncBackendList(generics.ListAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer
    filter_backends = [TitleStartsWith, OrderingFilter]


class AsyncPager(PageOf100):
    page_size = 5

    async def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        return await sync_to_async(super().paginate_queryset)(queryset, request, view)


class AsyncPagerList(AsyncBackendList):
    pagination_class = AsyncPager


class ContextSerializer(BookSerializer):
    shelf = serializers.SerializerMethodField()

    class Meta(BookSerializer.Meta):
        fields = ["title", "shelf"]

    def get_shelf(self, obj: Book) -> str:
        return str(self.context["shelf"])


class AsyncObjectAndContext(generics.RetrieveAPIView):
    authentication_classes: list[Any] = []
    serializer_class = ContextSerializer

    async def get_object(self) -> Any:
        book = await Book.objects.aget(isbn=self.kwargs["isbn"].zfill(13))
        await self.acheck_object_permissions(self.request, book)  # type: ignore[arg-type]
        return book

    async def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "shelf": await Book.objects.acount()}


class AllAsyncDetail(generics.RetrieveUpdateAPIView):
    """Every lookup and serializer hook async: DRF's sync call sites must cope."""

    async def get_queryset(self) -> Any:
        return Book.objects.all()

    async def get_serializer_class(self) -> Any:
        return BookSerializer

    async def get_serializer_context(self) -> dict[str, Any]:
        return {"request": self.request, "view": self, "format": None}


class MisroutedDetail(generics.RetrieveAPIView):
    queryset = Book.objects.all()
    serializer_class = BookSerializer


urlpatterns = [
    path("books/", BookList.as_view()),
    path("books-lo/", BookListLimitOffset.as_view()),
    path("books-cursor/", BookListCursor.as_view()),
    path("books-df/", BookListDjangoFilter.as_view()),
    path("by/<str:name>/", AuthorBooksSyncQuery.as_view()),
    path("aby/<str:name>/", AuthorBooksAsync.as_view()),
    path("async-hooks/", AsyncHooksList.as_view()),
    path("books/<str:pk>/", BookDetail.as_view()),
    path("isbn/<str:isbn>/", BookByIsbn.as_view()),
    path("plain/<int:pk>/", PlainDetail.as_view()),
    path("sync-guarded/<int:pk>/", SyncGuardedDetail.as_view()),
    path("misrouted/<int:id>/", MisroutedDetail.as_view()),
    path("async-backend/", AsyncBackendList.as_view()),
    path("all-async/<int:pk>/", AllAsyncDetail.as_view()),
    path("async-pager/", AsyncPagerList.as_view()),
    path("async-object/<str:isbn>/", AsyncObjectAndContext.as_view()),
]


@pytest.mark.parametrize("name", CONCRETE)
def test_every_concrete_view_is_a_drf_namesake_with_async_handlers(name: str) -> None:
    cls = getattr(generics, name)
    assert issubclass(cls, getattr(drf_generics, name))
    handlers = [m for m in ("get", "post", "put", "patch", "delete") if hasattr(cls, m)]
    assert handlers
    assert all(inspect.iscoroutinefunction(getattr(cls, m)) for m in handlers)


def test_sync_handler_on_a_generic_view_is_a_type_error_naming_the_method() -> None:
    with pytest.raises(TypeError, match=r"Broken\.get\(\) must be `async def`"):

        class Broken(generics.ListAPIView):
            def get(self, request: Any) -> Any:  # type: ignore[override]
                return Response()


@override_settings(ROOT_URLCONF=__name__)
class ListTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(250)

    def setUp(self) -> None:
        self.client = AsyncAPIClient()

    async def test_page_number_pagination_pages_and_links(self) -> None:
        response = await self.client.get("/books/?page=2")
        body = response.json()
        assert response.status_code == 200
        assert body["count"] == 250
        assert len(body["results"]) == 100
        assert body["next"] == "http://testserver/books/?page=3"
        assert body["previous"] == "http://testserver/books/"

    async def test_page_out_of_range_is_drfs_404(self) -> None:
        response = await self.client.get("/books/?page=9")
        assert response.status_code == 404
        assert response.json() == {"detail": "Invalid page."}

    async def test_limit_offset_pagination(self) -> None:
        response = await self.client.get("/books-lo/?limit=5&offset=10")
        body = response.json()
        assert [b["title"] for b in body["results"]] == [f"Book {i}" for i in range(10, 15)]
        assert body["next"] == "http://testserver/books-lo/?limit=5&offset=15"

    async def test_cursor_pagination_follows_its_next_link(self) -> None:
        first = (await self.client.get("/books-cursor/")).json()
        second = (await self.client.get(first["next"])).json()
        assert [b["title"] for b in second["results"]] == [f"Book {i}" for i in range(10, 20)]

    async def test_search_and_ordering_filters(self) -> None:
        response = await self.client.get("/books/?search=Book 24&ordering=-title")
        titles = [b["title"] for b in response.json()["results"]]
        assert titles == [
            "Book 249",
            "Book 248",
            "Book 247",
            "Book 246",
            "Book 245",
            "Book 244",
            "Book 243",
            "Book 242",
            "Book 241",
            "Book 240",
            "Book 24",
            "Book 224",
            "Book 124",
        ]

    async def test_django_filter_backend_filters_and_validates(self) -> None:
        found = await self.client.get("/books-df/?isbn=0000000000007")
        assert [b["title"] for b in found.json()] == ["Book 7"]
        invalid = await self.client.get("/books-df/?author=999")
        assert invalid.status_code == 400
        assert "author" in invalid.json()

    async def test_sync_filter_backend_runs_off_the_event_loop(self) -> None:
        seen_threads.clear()
        await self.client.get("/books/")
        assert seen_threads
        assert threading.get_ident() not in seen_threads

    async def test_sync_get_queryset_may_query_the_database(self) -> None:
        response = await self.client.get("/by/Ursula/")
        assert response.status_code == 200
        assert len(response.json()) == 250

    async def test_async_get_queryset_is_awaited(self) -> None:
        await Author.objects.acreate(name="Nobody")
        response = await self.client.get("/aby/Nobody/")
        assert response.status_code == 200
        assert response.json() == []

    async def test_async_filter_paginate_serializer_and_response_hooks_are_awaited(self) -> None:
        response = await self.client.get("/async-hooks/")
        body = response.json()
        assert body["async"] is True
        assert body["results"][:2] == [{"title": "Book 1"}, {"title": "Book 11"}]
        assert len(body["results"]) == 25

    async def test_async_filter_backend_is_awaited_next_to_sync_ones(self) -> None:
        response = await self.client.get("/async-backend/?prefix=Book 19&ordering=-id")
        assert [b["title"] for b in response.json()][:3] == ["Book 199", "Book 198", "Book 197"]
        assert len(response.json()) == 11

    async def test_async_paginator_is_awaited(self) -> None:
        response = await self.client.get("/async-pager/?prefix=Book 2&page=2")
        body = response.json()
        assert body["count"] == 61
        assert [b["title"] for b in body["results"]] == [f"Book 2{i}" for i in range(4, 9)]
        assert body["next"] == "http://testserver/async-pager/?page=3&prefix=Book+2"

    async def test_sync_list_pipeline_is_one_thread_hop(self) -> None:
        factory = AsyncAPIRequestFactory()
        view = BookList.as_view()
        with count_hops() as hops:
            response = await view(factory.get("/books/?search=Book&ordering=title&page=2"))
        assert response.status_code == 200
        assert hops == ["ListModelMixin._list_in_thread"]

    async def test_no_synchronous_only_operation_with_async_unsafe_unset(self) -> None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
        for url in (
            "/books/",
            "/books-lo/",
            "/books-cursor/",
            "/books-df/?author=1",
            "/by/Ursula/",
            "/aby/Ursula/",
            "/async-hooks/",
        ):
            response = await self.client.get(url)
            assert response.status_code == 200, url


@override_settings(ROOT_URLCONF=__name__)
class ObjectTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(4)

    def setUp(self) -> None:
        self.client = AsyncAPIClient()

    async def test_retrieve_answers_the_object(self) -> None:
        response = await self.client.get("/books/2/")
        assert response.status_code == 200
        assert response.json()["title"] == "Book 1"

    async def test_missing_object_is_404(self) -> None:
        response = await self.client.get("/books/999/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No Book matches the given query."}

    async def test_mistyped_lookup_is_404_as_in_drf(self) -> None:
        response = await self.client.get("/books/abc/")
        assert response.status_code == 404

    async def test_async_object_permission_denies_with_its_message(self) -> None:
        response = await self.client.get("/books/1/")
        assert response.status_code == 403
        assert response.json() == {"detail": "Odd books are private."}

    async def test_object_permission_is_checked_before_update_and_delete(self) -> None:
        put = await self.client.put("/books/3/", {"title": "x"}, format="json")
        delete = await self.client.delete("/books/3/")
        assert (put.status_code, delete.status_code) == (403, 403)
        assert await Book.objects.filter(pk=3, title="Book 2").aexists()

    async def test_lookup_then_serialize_is_two_hops(self) -> None:
        factory = AsyncAPIRequestFactory()
        with count_hops() as hops:
            response = await BookDetail.as_view()(factory.get("/books/2/"), pk="2")
        assert response.status_code == 200
        assert hops == ["GenericAPIView._lookup_in_thread", "data_in_thread"]

    async def test_lookup_serializer_and_data_are_one_hop_when_no_object_check_can_deny(
        self,
    ) -> None:
        factory = AsyncAPIRequestFactory()
        with count_hops() as hops:
            response = await PlainDetail.as_view()(factory.get("/plain/2/"), pk=2)
        assert response.status_code == 200
        assert response.data["title"] == "Book 1"
        assert hops == ["RetrieveModelMixin._retrieve_in_thread"]

    async def test_fused_lookup_of_a_missing_object_is_drfs_404(self) -> None:
        response = await self.client.get("/plain/999/")
        assert response.status_code == 404
        assert response.json() == {"detail": "No Book matches the given query."}

    async def test_fused_update_is_one_hop_and_writes(self) -> None:
        factory = AsyncAPIRequestFactory()
        request = factory.patch("/plain/2/", {"title": "renamed"}, format="json")
        with count_hops() as hops:
            response = await PlainDetail.as_view()(request, pk=2)
        assert response.status_code == 200
        assert response.data["title"] == "renamed"
        assert hops == ["UpdateModelMixin._update_in_thread"]
        assert await Book.objects.filter(pk=2, title="renamed").aexists()

    async def test_a_sync_object_check_keeps_drfs_order_and_denies_before_serializing(
        self,
    ) -> None:
        factory = AsyncAPIRequestFactory()
        serialized.clear()
        with count_hops() as hops:
            denied = await SyncGuardedDetail.as_view()(factory.get("/sync-guarded/1/"), pk=1)
        assert denied.status_code == 403
        assert denied.data == {"detail": "Odd books are private (sync)."}
        assert serialized == []  # the denied object never reached the serializer
        assert hops[0] == "GenericAPIView._lookup_in_thread"
        allowed = await self.client.get("/sync-guarded/2/")
        assert allowed.status_code == 200
        assert serialized == [2]

    async def test_a_sync_object_check_denies_an_update_before_any_write(self) -> None:
        response = await self.client.patch("/sync-guarded/3/", {"title": "x"}, format="json")
        assert response.status_code == 403
        assert await Book.objects.filter(pk=3, title="Book 2").aexists()

    async def test_an_overridden_object_check_is_never_skipped(self) -> None:
        factory = AsyncAPIRequestFactory()
        for view, message in (
            (AsyncObjectCheckOverride, "odd (async override)"),
            (SyncObjectCheckOverride, "odd (sync override)"),
        ):
            serialized.clear()
            denied = await view.as_view()(factory.get("/"), pk=1)
            assert (denied.status_code, denied.data) == (403, {"detail": message}), view
            assert serialized == [], view
            patched = await view.as_view()(factory.patch("/", {"title": "x"}, format="json"), pk=1)
            assert patched.status_code == 403, view
            allowed = await view.as_view()(factory.get("/"), pk=2)
            assert allowed.status_code == 200, view
        assert await Book.objects.filter(pk=1, title="Book 0").aexists()

    async def test_a_composite_permission_is_never_fused(self) -> None:
        factory = AsyncAPIRequestFactory()
        with count_hops() as hops:
            response = await CompositeGuardedDetail.as_view()(factory.get("/"), pk=2)
        assert response.status_code == 200
        assert hops[0] == "GenericAPIView._lookup_in_thread"

    async def test_sync_get_object_override_is_called_in_a_thread(self) -> None:
        response = await self.client.get("/isbn/3/")
        assert response.status_code == 200
        assert response.json()["title"] == "Book 3"

    async def test_async_get_object_and_serializer_context_are_awaited(self) -> None:
        response = await self.client.get("/async-object/2/")
        assert response.json() == {"title": "Book 2", "shelf": "4"}

    async def test_options_metadata_works_with_async_lookup_and_serializer_hooks(self) -> None:
        # DRF's SimpleMetadata calls get_object() and get_serializer() synchronously.
        response = await self.client.options("/all-async/2/")
        assert response.status_code == 200
        assert set(response.json()["actions"]["PUT"]) == {
            "id",
            "title",
            "isbn",
            "price",
            "published",
            "author",
        }

    async def test_browsable_api_renders_with_async_hooks(self) -> None:
        response = await self.client.get("/all-async/2/", headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert b"Book 1" in response.content

    async def test_async_hooks_serve_json_too(self) -> None:
        response = await self.client.patch("/all-async/2/", {"title": "T"}, format="json")
        assert response.json()["title"] == "T"

    async def test_sync_get_object_on_the_loop_refuses_an_async_hook(self) -> None:
        from daf_drf.hooks import HookNotAwaitable

        view = AllAsyncDetail()
        view.kwargs = {"pk": 2}
        view.request = None  # type: ignore[assignment]
        with pytest.raises(HookNotAwaitable):
            view.get_object()

    async def test_wrong_lookup_kwarg_is_improperly_configured(self) -> None:
        with pytest.raises(ImproperlyConfigured, match='named "pk"'):
            await self.client.get("/misrouted/1/")


def test_public_names_are_pinned() -> None:
    from daf_drf import mixins, viewsets

    assert sorted(generics.__all__) == sorted([*CONCRETE, "GenericAPIView", "get_object_or_404"])
    assert sorted(mixins.__all__) == [
        "CreateModelMixin",
        "DestroyModelMixin",
        "ListModelMixin",
        "RetrieveModelMixin",
        "UpdateModelMixin",
        "awrite",
    ]
    assert sorted(viewsets.__all__) == [
        "GenericViewSet",
        "ModelViewSet",
        "ReadOnlyModelViewSet",
        "ViewSet",
        "ViewSetMixin",
        "check_async_actions",
    ]
    for module in (generics, mixins, viewsets):
        assert all(hasattr(module, name) for name in module.__all__)
