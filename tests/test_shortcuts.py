"""daf_drf.shortcuts: ORM lookups for async handlers, with DRF's 404 rules."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import TestCase

from daf_drf.shortcuts import aget_list_or_404, aget_object_or_404
from tests.models import Author, Book


class AgetObjectOr404Tests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        author = Author.objects.create(name="Ursula")
        Book.objects.create(title="Earthsea", isbn="1", author=author)

    async def test_returns_the_object_from_a_model_manager_or_queryset(self) -> None:
        for source in (Book, Book.objects, Book.objects.select_related("author")):
            book = await aget_object_or_404(source, isbn="1")
            assert book.title == "Earthsea"

    async def test_missing_object_raises_http404(self) -> None:
        with pytest.raises(Http404):
            await aget_object_or_404(Book, pk=999)

    async def test_mistyped_lookup_raises_http404_like_drf(self) -> None:
        with pytest.raises(Http404):
            await aget_object_or_404(Book, pk="not-a-number")

    async def test_several_matches_still_raise_multiple_objects_returned(self) -> None:
        author = await Author.objects.aget(name="Ursula")
        await Book.objects.acreate(title="Earthsea", isbn="2", author=author)
        with pytest.raises(Book.MultipleObjectsReturned):
            await aget_object_or_404(Book, title="Earthsea")


class AgetListOr404Tests(TestCase):
    async def test_empty_result_raises_http404(self) -> None:
        with pytest.raises(Http404):
            await aget_list_or_404(Book, title="nothing")

    async def test_returns_a_list(self) -> None:
        author = await Author.objects.acreate(name="Ann")
        await Book.objects.acreate(title="A", isbn="9", author=author)
        assert [b.title for b in await aget_list_or_404(Book, author=author)] == ["A"]
