"""daf_drf.mixins: async actions, sync or async perform_* hooks, one-hop write pipelines."""

from __future__ import annotations

from tests.adrf_support import require_adrf

require_adrf()

import threading
from typing import Any

import pytest
from adrf import serializers as adrf_serializers
from django.db import transaction
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework import mixins as drf_mixins
from rest_framework import serializers

from daf_drf import generics, mixins
from daf_drf.test import AsyncAPIClient, AsyncAPIRequestFactory
from tests.books_api import BookSerializer, make_books
from tests.models import AuditEntry, Author, Book
from tests.support.hops import count_hops

events: list[tuple[str, Any]] = []


class LinkedBookSerializer(BookSerializer):
    url = serializers.SerializerMethodField()

    class Meta(BookSerializer.Meta):
        fields = [*BookSerializer.Meta.fields, "url"]

    def get_url(self, obj: Book) -> str:
        return f"/books/{obj.pk}/"


class Books(generics.ListCreateAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = LinkedBookSerializer


class SyncHookBooks(Books):
    def perform_create(self, serializer: Any) -> None:
        events.append(("thread", threading.get_ident()))
        serializer.save(pages=321)
        AuditEntry.objects.create(message=f"created {serializer.instance.isbn}")


class AsyncHookBooks(Books):
    async def perform_create(self, serializer: Any) -> None:
        events.append(("loop", threading.get_ident()))
        await mixins.awrite(serializer.save)
        await AuditEntry.objects.acreate(message="async hook")


class FailingHookBooks(Books):
    def perform_create(self, serializer: Any) -> None:
        serializer.save()
        raise RuntimeError("after the save")


class BookDetail(generics.RetrieveUpdateDestroyAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.prefetch_related("author__books")
    serializer_class = BookSerializer


class AuthorWithBooks(serializers.ModelSerializer):  # type: ignore[type-arg]
    books = serializers.PrimaryKeyRelatedField(many=True, queryset=Book.objects.all())

    class Meta:
        model = Author
        fields = ["id", "name", "books"]


class AuthorDetail(generics.RetrieveUpdateAPIView):
    authentication_classes: list[Any] = []
    queryset = Author.objects.prefetch_related("books")
    serializer_class = AuthorWithBooks

    def perform_update(self, serializer: Any) -> None:
        # A queryset update leaves the instance's prefetched `books` stale.
        serializer.save()
        Book.objects.filter(title="Moved").update(author=serializer.instance)


class AsyncDestroy(BookDetail):
    async def perform_destroy(self, instance: Any) -> None:
        await AuditEntry.objects.acreate(message=f"deleting {instance.pk}")
        await instance.adelete()


class SyncUpdate(BookDetail):
    def perform_update(self, serializer: Any) -> None:
        serializer.save(pages=999)


class AdrfAuthorSerializer(adrf_serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]

    async def acreate(self, validated_data: dict[str, Any]) -> Author:
        return await Author.objects.acreate(name=validated_data["name"].title())


class AdrfAuthors(generics.ListCreateAPIView):
    authentication_classes: list[Any] = []
    queryset = Author.objects.order_by("id")
    serializer_class = AdrfAuthorSerializer


urlpatterns = [
    path("adrf-authors/", AdrfAuthors.as_view()),
    path("books/", Books.as_view()),
    path("sync-hook/", SyncHookBooks.as_view()),
    path("async-hook/", AsyncHookBooks.as_view()),
    path("failing/", FailingHookBooks.as_view()),
    path("books/<int:pk>/", BookDetail.as_view()),
    path("async-destroy/<int:pk>/", AsyncDestroy.as_view()),
    path("sync-update/<int:pk>/", SyncUpdate.as_view()),
    path("authors/<int:pk>/", AuthorDetail.as_view()),
]

NEW = {"title": "New", "isbn": "4242", "price": "3.50", "author": 1}


@pytest.mark.parametrize("name", ["Create", "List", "Retrieve", "Update", "Destroy"])
def test_each_mixin_subclasses_drfs(name: str) -> None:
    assert issubclass(
        getattr(mixins, f"{name}ModelMixin"), getattr(drf_mixins, f"{name}ModelMixin")
    )


@override_settings(ROOT_URLCONF=__name__)
class CreateTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(2)

    def setUp(self) -> None:
        self.client = AsyncAPIClient()
        events.clear()

    async def test_create_answers_201_with_the_serialized_object(self) -> None:
        response = await self.client.post("/books/", NEW, format="json")
        assert response.status_code == 201
        assert response.json() == {
            "id": 3,
            "title": "New",
            "isbn": "4242",
            "price": "3.50",
            "published": None,
            "author": 1,
            "url": "/books/3/",
        }

    async def test_validation_errors_are_drfs_400(self) -> None:
        response = await self.client.post(
            "/books/", {**NEW, "isbn": "0000000000001", "author": 9}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {
            "isbn": ["book with this isbn already exists."],
            "author": ['Invalid pk "9" - object does not exist.'],
        }

    async def test_sync_perform_create_runs_in_the_pipelines_thread(self) -> None:
        response = await self.client.post("/sync-hook/", NEW, format="json")
        assert response.status_code == 201
        assert (await Book.objects.aget(isbn="4242")).pages == 321
        assert await AuditEntry.objects.filter(message="created 4242").aexists()
        assert events[0][1] != threading.get_ident()

    async def test_async_perform_create_runs_on_the_loop(self) -> None:
        response = await self.client.post("/async-hook/", NEW, format="json")
        assert response.status_code == 201
        assert events == [("loop", threading.get_ident())]
        assert await AuditEntry.objects.filter(message="async hook").aexists()

    async def test_sync_create_pipeline_is_one_hop(self) -> None:
        factory = AsyncAPIRequestFactory()
        with count_hops() as hops:
            response = await Books.as_view()(factory.post("/books/", NEW, format="json"))
        assert response.status_code == 201
        assert hops == ["CreateModelMixin._create_in_thread"]

    async def test_async_hook_splits_the_pipeline_into_validate_hook_and_data(self) -> None:
        factory = AsyncAPIRequestFactory()
        with count_hops() as hops:
            response = await AsyncHookBooks.as_view()(factory.post("/", NEW, format="json"))
        assert response.status_code == 201
        assert hops[0] == "BaseSerializer.is_valid"
        assert hops[-1] == "data_in_thread"

    async def test_adrf_serializer_creates_through_its_own_acreate(self) -> None:
        created = await self.client.post("/adrf-authors/", {"name": "terry pratchett"})
        listed = await self.client.get("/adrf-authors/")
        assert created.status_code == 201
        assert created.json()["name"] == "Terry Pratchett"
        assert [a["name"] for a in listed.json()] == ["Ursula", "Terry Pratchett"]

    async def test_an_exception_after_the_save_propagates(self) -> None:
        with pytest.raises(RuntimeError, match="after the save"):
            await self.client.post("/failing/", NEW, format="json")


@override_settings(ROOT_URLCONF=__name__)
class UpdateDestroyTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(2)

    def setUp(self) -> None:
        self.client = AsyncAPIClient()

    async def test_put_replaces_and_patch_updates_part(self) -> None:
        put = await self.client.put("/books/1/", {**NEW, "title": "Put"}, format="json")
        patch = await self.client.patch("/books/1/", {"price": "9.99"}, format="json")
        assert (put.status_code, patch.status_code) == (200, 200)
        assert patch.json()["title"] == "Put"
        assert patch.json()["price"] == "9.99"

    async def test_put_without_required_fields_is_400_but_patch_is_not(self) -> None:
        put = await self.client.put("/books/1/", {"title": "x"}, format="json")
        patch = await self.client.patch("/books/1/", {"title": "x"}, format="json")
        assert put.status_code == 400
        assert set(put.json()) == {"isbn", "author"}
        assert patch.status_code == 200

    async def test_sync_perform_update_is_used(self) -> None:
        response = await self.client.patch("/sync-update/2/", {"title": "y"}, format="json")
        assert response.status_code == 200
        assert (await Book.objects.aget(pk=2)).pages == 999

    async def test_update_forgets_the_prefetch_cache(self) -> None:
        other = await Author.objects.acreate(name="Other")
        moved = await Book.objects.acreate(title="Moved", isbn="M1", author=other)
        response = await self.client.patch("/authors/1/", {"name": "U."}, format="json")
        assert response.json()["books"] == [1, 2, moved.pk]

    async def test_destroy_answers_204_and_deletes(self) -> None:
        response = await self.client.delete("/books/1/")
        assert response.status_code == 204
        assert response.content == b""
        assert not await Book.objects.filter(pk=1).aexists()

    async def test_async_perform_destroy_is_awaited(self) -> None:
        response = await self.client.delete("/async-destroy/2/")
        assert response.status_code == 204
        assert await AuditEntry.objects.filter(message="deleting 2").aexists()
        assert not await Book.objects.filter(pk=2).aexists()

    async def test_update_is_one_hop_when_no_object_permission_can_deny(self) -> None:
        # The lookup joins the write's hop: no permission of BookDetail checks objects.
        factory = AsyncAPIRequestFactory()
        request = factory.patch("/books/1/", {"title": "z"}, format="json")
        with count_hops() as hops:
            response = await BookDetail.as_view()(request, pk=1)
        assert response.status_code == 200
        assert hops == ["UpdateModelMixin._update_in_thread"]


class AwriteTests(TestCase):
    async def test_awrite_runs_a_sync_write_off_the_loop(self) -> None:
        seen: list[int] = []

        def write() -> None:
            seen.append(threading.get_ident())
            AuditEntry.objects.create(message="awrite")

        await mixins.awrite(write)
        assert seen
        assert seen[0] != threading.get_ident()
        assert await AuditEntry.objects.filter(message="awrite").aexists()

    async def test_awrite_is_atomic_under_atomic_requests(self) -> None:
        from django.db import connections

        states: list[bool] = []

        def write() -> None:
            states.append(transaction.get_connection().in_atomic_block)

        db = connections.settings["default"]
        db["ATOMIC_REQUESTS"] = True
        try:
            await mixins.awrite(write)
        finally:
            db["ATOMIC_REQUESTS"] = False
        # TestCase wraps each test in a transaction; ATOMIC_REQUESTS adds a savepoint.
        assert states == [True]
