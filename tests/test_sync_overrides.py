"""
A project's DRF-style overrides behave as on DRF: sync hooks that call `super()`, and hooks
assigned on the instance.

DRF code overrides `perform_create` to add an owner and calls `super()`; daf_drf's
`perform_create` is the same method, so the save happens exactly as DRF's, in the pipeline's
one thread hop. An async override awaits `super()` instead.
"""

from __future__ import annotations

import gc
import warnings
from typing import Any

from django.test import TestCase, override_settings
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from daf_drf import generics, viewsets
from daf_drf.decorators import action
from daf_drf.test import AsyncAPIClient, AsyncAPIRequestFactory
from tests.books_api import BookSerializer, make_books
from tests.models import AuditEntry, Book
from tests.support.hops import count_hops

NEW = {"title": "New", "isbn": "4242", "price": "3.50", "author": 1}


class SyncSuperViewSet(viewsets.ModelViewSet):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def perform_create(self, serializer: Any) -> None:
        AuditEntry.objects.create(message="before create")
        super().perform_create(serializer)

    def perform_update(self, serializer: Any) -> None:
        super().perform_update(serializer)
        AuditEntry.objects.create(message=f"updated {serializer.instance.title}")

    def perform_destroy(self, instance: Any) -> None:
        AuditEntry.objects.create(message=f"deleting {instance.pk}")
        super().perform_destroy(instance)


class AsyncSuperViewSet(viewsets.ModelViewSet):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    async def perform_create(self, serializer: Any) -> None:
        await super().perform_create(serializer)
        await AuditEntry.objects.acreate(message=f"created {serializer.instance.isbn}")

    async def perform_update(self, serializer: Any) -> None:
        await super().perform_update(serializer)

    async def perform_destroy(self, instance: Any) -> None:
        await super().perform_destroy(instance)


class SyncLookupViewSet(viewsets.ReadOnlyModelViewSet):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def get_queryset(self) -> Any:
        return super().get_queryset().filter(title__startswith="Book")

    def get_object(self) -> Any:
        book = super().get_object()
        book.title = book.title.upper()
        return book


class MeViewSet(viewsets.GenericViewSet, generics.mixins.RetrieveModelMixin):
    # The "/me" idiom: an action points `get_object` at another method, then reuses retrieve.
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def get_first(self) -> Book:
        return Book.objects.order_by("id").first()  # type: ignore[return-value]

    async def aget_last(self) -> Book:
        return await Book.objects.order_by("id").alast()  # type: ignore[return-value]

    @action(detail=False)
    async def first(self, request: Any) -> Any:
        self.get_object = self.get_first  # type: ignore[method-assign]
        return await self.retrieve(request)

    @action(detail=False)
    async def last(self, request: Any) -> Any:
        self.get_object = self.aget_last  # type: ignore[assignment,method-assign]
        return await self.retrieve(request)

    @action(detail=False)
    async def odd(self, request: Any) -> Any:
        self.get_queryset = lambda: Book.objects.filter(id__in=[1, 3])  # type: ignore[method-assign]
        self.kwargs["pk"] = 2
        return await self.retrieve(request)


router = SimpleRouter()
router.register("sync", SyncSuperViewSet, basename="sync")
router.register("async", AsyncSuperViewSet, basename="async")
router.register("lookup", SyncLookupViewSet, basename="lookup")
router.register("me", MeViewSet, basename="me")
urlpatterns = [path("", include(router.urls))]


class _NoLostCoroutines(TestCase):
    def setUp(self) -> None:
        self.client = AsyncAPIClient()
        self._warnings = warnings.catch_warnings(record=True)
        self.caught = self._warnings.__enter__()
        warnings.simplefilter("always")

    def tearDown(self) -> None:
        gc.collect()
        self._warnings.__exit__(None, None, None)
        lost = [w for w in self.caught if "was never awaited" in str(w.message)]
        assert lost == []


@override_settings(ROOT_URLCONF=__name__)
class SyncOverrideCallingSuperTests(_NoLostCoroutines):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(3)

    async def test_sync_perform_create_calling_super_creates_the_row(self) -> None:
        response = await self.client.post("/sync/", NEW, format="json")
        assert response.status_code == 201
        assert await Book.objects.filter(isbn="4242").aexists()
        assert response.json()["id"] == (await Book.objects.aget(isbn="4242")).pk
        assert await AuditEntry.objects.filter(message="before create").aexists()

    async def test_sync_perform_create_calling_super_saves_in_the_pipelines_one_hop(
        self,
    ) -> None:
        request = AsyncAPIRequestFactory().post("/", NEW, format="json")
        with count_hops() as hops:
            response = await SyncSuperViewSet.as_view({"post": "create"})(request)
        assert response.status_code == 201
        assert hops == ["CreateModelMixin._create_in_thread"]

    async def test_sync_perform_update_calling_super_updates_the_row(self) -> None:
        response = await self.client.patch("/sync/1/", {"title": "Renamed"}, format="json")
        assert response.status_code == 200
        assert response.json()["title"] == "Renamed"
        assert (await Book.objects.aget(pk=1)).title == "Renamed"
        assert await AuditEntry.objects.filter(message="updated Renamed").aexists()

    async def test_sync_perform_update_calling_super_on_put_updates_the_row(self) -> None:
        put = {**NEW, "isbn": "0000000000000"}
        response = await self.client.put("/sync/1/", put, format="json")
        assert response.status_code == 200
        assert (await Book.objects.aget(pk=1)).title == "New"

    async def test_sync_perform_destroy_calling_super_deletes_the_row(self) -> None:
        response = await self.client.delete("/sync/2/")
        assert response.status_code == 204
        assert not await Book.objects.filter(pk=2).aexists()
        assert await AuditEntry.objects.filter(message="deleting 2").aexists()

    async def test_async_overrides_awaiting_super_create_update_and_delete(self) -> None:
        created = await self.client.post("/async/", NEW, format="json")
        updated = await self.client.patch("/async/1/", {"title": "Async"}, format="json")
        deleted = await self.client.delete("/async/2/")
        assert (created.status_code, updated.status_code, deleted.status_code) == (201, 200, 204)
        assert await AuditEntry.objects.filter(message="created 4242").aexists()
        assert (await Book.objects.aget(pk=1)).title == "Async"
        assert not await Book.objects.filter(pk=2).aexists()

    async def test_sync_get_queryset_and_get_object_calling_super(self) -> None:
        listed = await self.client.get("/lookup/")
        retrieved = await self.client.get("/lookup/3/")
        assert [book["id"] for book in listed.json()] == [1, 2, 3]
        assert retrieved.status_code == 200
        assert retrieved.json()["title"] == "BOOK 2"

    def test_super_perform_create_called_from_sync_code_saves_like_drf(self) -> None:
        view = SyncSuperViewSet()
        serializer = BookSerializer(data=NEW)
        serializer.is_valid(raise_exception=True)
        view.perform_create(serializer)
        assert Book.objects.filter(isbn="4242").exists()


@override_settings(ROOT_URLCONF=__name__)
class InstanceHookTests(_NoLostCoroutines):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(3)

    async def test_get_object_assigned_on_the_instance_is_used_by_retrieve(self) -> None:
        response = await self.client.get("/me/first/")
        assert response.status_code == 200
        assert response.json()["id"] == 1

    async def test_async_get_object_assigned_on_the_instance_is_awaited(self) -> None:
        response = await self.client.get("/me/last/")
        assert response.status_code == 200
        assert response.json()["id"] == 3

    async def test_get_queryset_assigned_on_the_instance_is_used_by_the_lookup(self) -> None:
        response = await self.client.get("/me/odd/")
        assert response.status_code == 404


class SyncOptions(generics.ListCreateAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def options(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().options(request, *args, **kwargs)
        response.data["extra"] = True
        return response


class PassThroughDispatch(generics.ListAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.tenant = "acme"
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self) -> Any:
        assert self.tenant == "acme"
        return super().get_queryset()


class HeaderDispatch(generics.ListAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    async def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = await super().dispatch(request, *args, **kwargs)
        response["X-Books"] = str(len(response.data))
        return response


class HandlerOverrideTests(_NoLostCoroutines):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(2)

    async def test_sync_options_calling_super_gets_drfs_metadata_response(self) -> None:
        request = AsyncAPIRequestFactory().options("/")
        response = await SyncOptions.as_view()(request)
        assert response.status_code == 200
        assert response.data["name"] == "Sync Options"
        assert response.data["extra"] is True
        assert "POST" in response.data["actions"]

    async def test_an_async_dispatch_override_awaits_super_and_reads_the_response(self) -> None:
        response = await HeaderDispatch.as_view()(AsyncAPIRequestFactory().get("/"))
        assert response["X-Books"] == "2"

    async def test_a_sync_dispatch_that_returns_super_unchanged_works(self) -> None:
        response = await PassThroughDispatch.as_view()(AsyncAPIRequestFactory().get("/"))
        assert response.status_code == 200
        assert len(response.data) == 2


class InstanceCheckPermissions(generics.ListAPIView):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    def setup(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().setup(request, *args, **kwargs)
        self.check_permissions = self.deny  # type: ignore[method-assign]

    def deny(self, request: Any) -> None:
        self.permission_denied(request, message="closed today")


class InstanceDispatchStepTests(_NoLostCoroutines):
    async def test_check_permissions_assigned_on_the_instance_is_honoured(self) -> None:
        response = await InstanceCheckPermissions.as_view()(AsyncAPIRequestFactory().get("/"))
        assert response.status_code == 403
        assert response.data["detail"] == "closed today"


class AsyncSiblingSuperViewSet(viewsets.ModelViewSet):
    # Async overrides of the sync names that call daf_drf's async siblings through super().
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    async def get_queryset(self) -> Any:  # type: ignore[override]
        queryset = await super().aget_queryset()
        return queryset.filter(title__startswith="Book")

    async def get_object(self) -> Any:  # type: ignore[override]
        book = await super().aget_object()
        book.title = book.title.upper()
        return book

    async def perform_create(self, serializer: Any) -> None:  # type: ignore[override]
        await super().aperform_create(serializer)
        await AuditEntry.objects.acreate(message="sibling create")


class AsyncSiblingSuperTests(_NoLostCoroutines):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(2)

    async def test_async_overrides_calling_the_async_siblings_through_super(self) -> None:
        factory = AsyncAPIRequestFactory()
        listed = await AsyncSiblingSuperViewSet.as_view({"get": "list"})(factory.get("/"))
        retrieved = await AsyncSiblingSuperViewSet.as_view({"get": "retrieve"})(
            factory.get("/"), pk=2
        )
        created = await AsyncSiblingSuperViewSet.as_view({"post": "create"})(
            factory.post("/", NEW, format="json")
        )
        assert [book["id"] for book in listed.data] == [1, 2]
        assert retrieved.data["title"] == "BOOK 1"
        assert created.status_code == 201
        assert await Book.objects.filter(isbn="4242").aexists()
        assert await AuditEntry.objects.filter(message="sibling create").aexists()


class InstanceWriteHookViewSet(viewsets.ModelViewSet):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    @action(detail=False, methods=["post"])
    async def imported(self, request: Any) -> Any:
        self.perform_create = self.create_imported  # type: ignore[method-assign]
        return await self.create(request)

    def create_imported(self, serializer: Any) -> None:
        serializer.save(title=f"Imported {serializer.validated_data['title']}")


class AperformOverrideViewSet(viewsets.ModelViewSet):
    authentication_classes: list[Any] = []
    queryset = Book.objects.all()
    serializer_class = BookSerializer

    async def aperform_create(self, serializer: Any) -> None:
        await super().aperform_create(serializer)
        await AuditEntry.objects.acreate(message="aperform_create")


class WriteHookTests(_NoLostCoroutines):
    @classmethod
    def setUpTestData(cls) -> None:
        make_books(1)

    async def test_perform_create_assigned_on_the_instance_saves(self) -> None:
        view = InstanceWriteHookViewSet.as_view({"post": "imported"})
        response = await view(AsyncAPIRequestFactory().post("/", NEW, format="json"))
        assert response.status_code == 201
        assert (await Book.objects.aget(isbn="4242")).title == "Imported New"

    async def test_an_aperform_create_override_is_called_and_its_super_saves(self) -> None:
        view = AperformOverrideViewSet.as_view({"post": "create"})
        response = await view(AsyncAPIRequestFactory().post("/", NEW, format="json"))
        assert response.status_code == 201
        assert await Book.objects.filter(isbn="4242").aexists()
        assert await AuditEntry.objects.filter(message="aperform_create").aexists()
