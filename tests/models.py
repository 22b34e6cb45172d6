"""Models shared by the test suite, the compat project's tests and the benchmarks' tests."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100, unique=True)

    def __str__(self) -> str:
        return self.name


class Book(models.Model):
    """Six fields and one foreign key: the shape the generics bars name."""

    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, unique=True)
    pages = models.PositiveIntegerField(default=100)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=10)
    published = models.DateField(null=True, blank=True)
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")

    class Meta:
        ordering = ["id"]


class AuditEntry(models.Model):
    """Written by exception-handler tests that must run ORM code during error handling."""

    message = models.CharField(max_length=200)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )


class Review(models.Model):
    """A review of a book, with async attributes (daf_drf.serializers tests)."""

    book = models.ForeignKey(Book, on_delete=models.CASCADE, related_name="reviews")
    stars = models.PositiveSmallIntegerField()

    @property
    async def abook_title(self) -> str:
        # An async property that queries the database: only awaitable on the loop.
        book = await Book.objects.aget(pk=self.book_id)
        return book.title

    async def astars_label(self) -> str:
        return "*" * self.stars
