"""The same views migrated to daf_drf: the import swap and `async def` (docs/migration.md)."""

from __future__ import annotations

from rest_framework.request import Request
from rest_framework.response import Response

from bench.realistic import upstream
from bench.realistic.models import Article
from bench.realistic.serializers import ArticleSerializer
from daf_drf import generics
from daf_drf.views import APIView


class Hello(APIView):
    async def get(self, request: Request) -> Response:
        return Response({"message": "hello"})


class Upstream(APIView):
    async def get(self, request: Request) -> Response:
        return Response({"upstream": await upstream.acall()})


class ArticleList(generics.ListCreateAPIView[Article]):
    queryset = Article.objects.order_by("id")
    serializer_class = ArticleSerializer


class ArticleDetail(generics.RetrieveUpdateAPIView[Article]):
    queryset = Article.objects.all()
    serializer_class = ArticleSerializer
