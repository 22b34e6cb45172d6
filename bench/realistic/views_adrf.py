"""The same views on adrf, written as its README shows (adrf's serializer, generics, views)."""

from __future__ import annotations

from typing import Any

from adrf import generics
from adrf.serializers import ModelSerializer
from adrf.views import APIView
from rest_framework.response import Response

from bench.realistic import upstream
from bench.realistic.models import Article


class Hello(APIView):  # type: ignore[misc]
    async def get(self, request: Any) -> Response:
        return Response({"message": "hello"})


class Upstream(APIView):  # type: ignore[misc]
    async def get(self, request: Any) -> Response:
        return Response({"upstream": await upstream.acall()})


class ArticleSerializer(ModelSerializer):  # type: ignore[misc]
    class Meta:
        model = Article
        fields = ["id", "author", "title", "body", "published", "created"]


class ArticleList(generics.ListCreateAPIView):  # type: ignore[misc]
    queryset = Article.objects.order_by("id")
    serializer_class = ArticleSerializer


class ArticleDetail(generics.RetrieveUpdateAPIView):  # type: ignore[misc]
    queryset = Article.objects.all()
    serializer_class = ArticleSerializer
