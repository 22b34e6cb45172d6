"""daf_drf.serializers: DRF serializers off the loop in one hop per call, async attributes."""

from __future__ import annotations

from tests.adrf_support import require_adrf

require_adrf()

import gc
import os
import warnings
from typing import Any

import pytest
from adrf import serializers as adrf_serializers
from asgiref.sync import sync_to_async
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from daf_drf import generics
from daf_drf.serializers import AsyncSerializerMixin, adata, ais_valid, asave
from daf_drf.test import AsyncAPIClient
from tests.books_api import BookSerializer, make_books
from tests.models import Author, Book, Review
from tests.support.hops import count_hops


class ReviewSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A plain DRF serializer whose output has async parts."""

    label = serializers.SerializerMethodField()
    sync_label = serializers.SerializerMethodField()
    stars_label = serializers.ReadOnlyField(source="astars_label")

    class Meta:
        model = Review
        fields = ["id", "stars", "abook_title", "label", "sync_label", "stars_label"]

    async def get_label(self, obj: Review) -> str:
        author = await Author.objects.aget(books__reviews=obj)
        return f"{obj.stars} stars for {author.name}"

    def get_sync_label(self, obj: Review) -> str:
        return f"{obj.stars}/5"


class TypedReviewSerializer(AsyncSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    title = serializers.CharField(source="abook_title", read_only=True)

    class Meta:
        model = Review
        fields = ["id", "title", "stars"]


class AdrfAuthorSerializer(adrf_serializers.ModelSerializer):
    class Meta:
        model = Author
        fields = ["id", "name"]

    async def acreate(self, validated_data: dict[str, Any]) -> Author:
        return await Author.objects.acreate(name=validated_data["name"].upper())


class ReviewList(generics.ListAPIView):
    authentication_classes: list[Any] = []
    queryset = Review.objects.order_by("id")
    serializer_class = ReviewSerializer


urlpatterns = [path("reviews/", ReviewList.as_view())]


class HelperTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        books = make_books(2)
        Review.objects.create(book=books[0], stars=4)
        Review.objects.create(book=books[1], stars=2)

    async def test_ais_valid_runs_unique_and_related_field_validation_off_the_loop(self) -> None:
        serializer = BookSerializer(
            data={"title": "t", "isbn": "0000000000001", "price": "1", "author": 999}
        )
        assert await ais_valid(serializer) is False
        assert set(serializer.errors) == {"isbn", "author"}
        assert str(serializer.errors["isbn"][0]) == "book with this isbn already exists."

    async def test_ais_valid_raises_drfs_validation_error(self) -> None:
        serializer = BookSerializer(data={})
        with pytest.raises(ValidationError):
            await ais_valid(serializer, raise_exception=True)

    async def test_each_helper_is_exactly_one_hop(self) -> None:
        serializer = BookSerializer(data={"title": "t", "isbn": "5", "price": "1", "author": 1})
        with count_hops() as hops:
            await ais_valid(serializer, raise_exception=True)
            book = await asave(serializer, pages=7)
            await adata(serializer)
        assert hops == ["BaseSerializer.is_valid", "BaseSerializer.save", "data_in_thread"]
        assert book.pages == 7

    async def test_adata_of_many_objects_is_one_hop_not_one_per_object(self) -> None:
        serializer = BookSerializer(Book.objects.all(), many=True)
        with count_hops() as hops:
            data = await adata(serializer)
        assert len(data) == 2
        assert hops == ["data_in_thread"]

    async def test_async_method_field_property_and_method_are_awaited(self) -> None:
        data = await adata(ReviewSerializer(Review.objects.order_by("id"), many=True))
        assert [dict(item) for item in data] == [
            {
                "id": 1,
                "stars": 4,
                "abook_title": "Book 0",
                "label": "4 stars for Ursula",
                "sync_label": "4/5",
                "stars_label": "****",
            },
            {
                "id": 2,
                "stars": 2,
                "abook_title": "Book 1",
                "label": "2 stars for Ursula",
                "sync_label": "2/5",
                "stars_label": "**",
            },
        ]

    async def test_awaited_values_stay_in_serializer_data(self) -> None:
        review = await Review.objects.aget(pk=1)
        serializer = ReviewSerializer(review)
        await adata(serializer)
        assert serializer.data["abook_title"] == "Book 0"
        assert serializer.data["label"] == "4 stars for Ursula"

    async def test_mixin_typed_field_converts_the_awaited_value(self) -> None:
        serializer = TypedReviewSerializer(await Review.objects.aget(pk=1))
        assert dict(await serializer.adata()) == {"id": 1, "title": "Book 0", "stars": 4}

    async def test_mixin_methods_validate_and_save(self) -> None:
        serializer = TypedReviewSerializer(
            await Review.objects.aget(pk=2), data={"stars": 5}, partial=True
        )
        assert await serializer.ais_valid(raise_exception=True)
        review = await serializer.asave()
        assert (await Review.objects.aget(pk=review.pk)).stars == 5

    async def test_adrf_serializer_saves_through_its_own_async_create(self) -> None:
        serializer = AdrfAuthorSerializer(data={"name": "le guin"})
        await ais_valid(serializer, raise_exception=True)
        author = await asave(serializer)
        assert author.name == "LE GUIN"


@override_settings(ROOT_URLCONF=__name__)
class ViewTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        books = make_books(3)
        for book in books:
            Review.objects.create(book=book, stars=3)

    async def test_generic_list_awaits_async_attributes_through_asgi(self) -> None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
        response = await AsyncAPIClient().get("/reviews/")
        assert response.status_code == 200
        assert [r["abook_title"] for r in response.json()] == ["Book 0", "Book 1", "Book 2"]
        assert response.json()[0]["label"] == "3 stars for Ursula"

    async def test_sync_data_with_async_attributes_leaves_them_to_adata(self) -> None:
        # DRF's own `.data` (a sync caller) cannot await: it hands the coroutines over.
        review = await Review.objects.aget(pk=1)
        serializer = ReviewSerializer(review)
        raw = await sync_to_async(lambda: serializer.data)()
        assert hasattr(raw["label"], "__await__")
        resolved = await adata(serializer)
        assert resolved["label"] == "3 stars for Ursula"


class Upper(serializers.CharField):
    def to_representation(self, value: Any) -> str:
        return str(value).upper()


@pytest.mark.parametrize(
    ("fields", "declared", "expected"),
    [
        (["id", "stars"], {}, False),
        (["id", "abook_title"], {}, True),
        (["id", "astars_label"], {}, True),
        (["id", "stars", "book"], {}, False),
        (["id", "stars"], {"loud": Upper(source="stars")}, True),
        (["id"], {"everything": serializers.ReadOnlyField(source="*")}, True),
    ],
)
def test_may_hold_awaitables_sees_through_plain_model_serializers_only(
    fields: list[str], declared: dict[str, Any], expected: bool
) -> None:
    from daf_drf.serializers import may_hold_awaitables

    meta = type("Meta", (), {"model": Review, "fields": [*fields, *declared]})
    serializer_class = type("S", (serializers.ModelSerializer,), {"Meta": meta, **declared})
    assert may_hold_awaitables(serializer_class()) is expected
    assert may_hold_awaitables(serializer_class(many=True)) is expected


def test_may_hold_awaitables_follows_method_fields_and_nesting() -> None:
    from daf_drf.serializers import may_hold_awaitables

    class Nested(serializers.ModelSerializer):  # type: ignore[type-arg]
        reviews = ReviewSerializer(many=True, read_only=True)

        class Meta:
            model = Book
            fields = ["id", "reviews"]

    assert may_hold_awaitables(ReviewSerializer()) is True
    assert may_hold_awaitables(Nested()) is True
    assert may_hold_awaitables(BookSerializer()) is False
    assert may_hold_awaitables(serializers.Serializer()) is True


class FailingReviewSerializer(ReviewSerializer):
    async def get_label(self, obj: Review) -> str:
        raise RuntimeError(f"no label for {obj.pk}")


class ResolutionTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        books = make_books(3)
        for book in books:
            Review.objects.create(book=book, stars=1)

    async def test_a_failing_getter_propagates_and_closes_the_other_coroutines(self) -> None:
        serializer = FailingReviewSerializer(Review.objects.order_by("id"), many=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                await adata(serializer)
            except RuntimeError as exc:
                assert str(exc) == "no label for 1"  # noqa: PT017
            else:
                pytest.fail("the getter's error did not propagate")
            del serializer
            gc.collect()
        assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []

    async def test_awaitables_are_found_in_document_order(self) -> None:
        from daf_drf.serializers import find_awaitables

        async def value(n: int) -> int:
            return n

        coroutines = [value(n) for n in range(4)]
        data = [
            {"a": coroutines[0], "nested": {"b": coroutines[1]}},
            [coroutines[2]],
            {"c": coroutines[3]},
        ]
        slots = find_awaitables(data)
        assert [slot[2] for slot in slots] == coroutines
        for coroutine in coroutines:
            coroutine.close()


def test_public_names_are_pinned() -> None:
    from daf_drf import serializers as daf_serializers
    from daf_drf import shortcuts, transaction

    assert sorted(daf_serializers.__all__) == [
        "AsyncSerializerMixin",
        "adata",
        "ais_valid",
        "asave",
        "data_in_thread",
        "find_awaitables",
        "may_hold_awaitables",
        "native_async_method",
        "resolve_awaitables",
        "resolve_data_sync",
    ]
    assert sorted(shortcuts.__all__) == [
        "aget_list_or_404",
        "aget_object_or_404",
        "get_object_or_404",
    ]
    assert sorted(transaction.__all__) == [
        "atomic",
        "check_atomic_requests",
        "mark_non_atomic",
        "request_atomic",
    ]
