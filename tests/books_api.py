"""
A books API written twice, with DRF and with daf_drf, for the generics/viewsets tests, the
differential suite and the spectacular comparison. The daf_drf side is the DRF side with
its imports swapped and its handlers made `async def`; nothing else differs.
"""

from __future__ import annotations

from typing import Any

from rest_framework import generics as drf_generics
from rest_framework import permissions, serializers
from rest_framework import viewsets as drf_viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.routers import DefaultRouter

from daf_drf import generics, viewsets
from tests.models import Author, Book


class BookSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """Six fields, one foreign key."""

    class Meta:
        model = Book
        fields = ["id", "title", "isbn", "price", "published", "author"]


class PageOf100(PageNumberPagination):
    page_size = 100


class drf_side:
    # The browsable API and OPTIONS show a view's class name, so the twins share theirs.

    class BookViewSet(drf_viewsets.ModelViewSet):  # type: ignore[type-arg]
        queryset = Book.objects.all()
        serializer_class = BookSerializer
        pagination_class = PageOf100
        permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    class BookList(drf_generics.ListCreateAPIView):  # type: ignore[type-arg]
        queryset = Book.objects.all()
        serializer_class = BookSerializer
        pagination_class = PageOf100


class daf_side:
    class BookViewSet(viewsets.ModelViewSet):
        queryset = Book.objects.all()
        serializer_class = BookSerializer
        pagination_class = PageOf100
        permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    class BookList(generics.ListCreateAPIView):
        queryset = Book.objects.all()
        serializer_class = BookSerializer
        pagination_class = PageOf100


DrfBookViewSet = drf_side.BookViewSet
DafBookViewSet = daf_side.BookViewSet
DrfBookList = drf_side.BookList
DafBookList = daf_side.BookList


def router_urls(viewset: type, prefix: str = "books") -> list[Any]:
    router = DefaultRouter()
    router.register(prefix, viewset)
    return list(router.urls)


def make_books(count: int, *, author: Author | None = None) -> list[Book]:
    """`count` books by one author, with stable ISBNs (sync: call it off the loop)."""
    author = author or Author.objects.get_or_create(name="Ursula")[0]
    return Book.objects.bulk_create(
        Book(title=f"Book {i}", isbn=f"{i:013d}", price=10 + i % 7, author=author)
        for i in range(count)
    )
