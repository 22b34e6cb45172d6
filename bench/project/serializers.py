"""One DRF ModelSerializer, used unchanged by DRF, adrf and daf_drf (the migration promise)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from bench.project.models import Item


class ItemSerializer(serializers.ModelSerializer[Any]):
    class Meta:
        model = Item
        fields = ["id", "title", "isbn", "pages", "price", "published", "publisher"]
