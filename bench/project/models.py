"""The data of the `list1000` and `create` cases: the 6-field, one-FK model of the bars."""

from __future__ import annotations

from django.db import models


class Publisher(models.Model):
    name = models.CharField(max_length=100)


class Item(models.Model):
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=32, unique=True)
    pages = models.PositiveIntegerField(default=100)
    price = models.DecimalField(max_digits=8, decimal_places=2, default=10)
    published = models.DateField(null=True, blank=True)
    publisher = models.ForeignKey(Publisher, on_delete=models.CASCADE, related_name="items")

    class Meta:
        ordering = ["id"]
