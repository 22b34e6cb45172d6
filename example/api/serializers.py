"""Serializers of the demo: plain DRF, shared by the DRF and the daf_drf endpoints."""

from __future__ import annotations

from rest_framework import serializers

from example.api.models import Author, Quote


class QuoteSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    author = serializers.SlugRelatedField(slug_field="name", queryset=Author.objects.all())

    class Meta:
        model = Quote
        fields = ["id", "text", "author", "likes"]
        read_only_fields = ["likes"]


class FanoutParams(serializers.Serializer):  # type: ignore[type-arg]
    calls = serializers.IntegerField(min_value=1, max_value=20, default=5)
    ms = serializers.IntegerField(min_value=0, max_value=2000, default=200)


class UpstreamParams(serializers.Serializer):  # type: ignore[type-arg]
    ms = serializers.IntegerField(min_value=0, max_value=2000, default=200)
    id = serializers.IntegerField(min_value=0, default=0)


class EventParams(serializers.Serializer):  # type: ignore[type-arg]
    count = serializers.IntegerField(min_value=1, max_value=100, default=5)
    interval = serializers.FloatField(min_value=0.0, max_value=10.0, default=1.0)
