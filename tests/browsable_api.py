"""
A small books API for the browsable API's tests (tests/test_browsable_api.py and the
headless-browser test): a serializer with an `async def` `SerializerMethodField`, one viewset
with a `queryset` attribute and one whose `get_queryset` is `async def`.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.routers import DefaultRouter

from daf_drf import viewsets
from tests.models import Author, Book


class BookSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = ["id", "title", "isbn", "pages", "author", "author_name"]

    async def get_author_name(self, obj: Book) -> str:
        author = await Author.objects.aget(pk=obj.author_id)
        return f"by {author.name}"


class MethodFieldBookViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    queryset = Book.objects.order_by("id")
    serializer_class = BookSerializer


class AsyncQuerysetBookViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    serializer_class = BookSerializer

    async def get_queryset(self) -> Any:
        return Book.objects.order_by("id")


router = DefaultRouter()
router.register("method-field-books", MethodFieldBookViewSet, basename="mf-book")
router.register("async-qs-books", AsyncQuerysetBookViewSet, basename="aq-book")
urlpatterns = router.urls
