"""A `ModelSerializer` with a foreign key, as DRF's quickstart writes one."""

from __future__ import annotations

from rest_framework import serializers

from bench.realistic.models import Article


class ArticleSerializer(serializers.ModelSerializer[Article]):
    class Meta:
        model = Article
        fields = ["id", "author", "title", "body", "published", "created"]
