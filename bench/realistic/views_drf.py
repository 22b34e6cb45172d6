"""DRF's quickstart views, untouched: the incumbent, and the sync half of a mixed project."""

from __future__ import annotations

from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.realistic import upstream
from bench.realistic.models import Article
from bench.realistic.serializers import ArticleSerializer


class Hello(APIView):
    def get(self, request: Request) -> Response:
        return Response({"message": "hello"})


class Upstream(APIView):
    def get(self, request: Request) -> Response:
        return Response({"upstream": upstream.call()})


class ArticleList(generics.ListCreateAPIView[Article]):
    queryset = Article.objects.order_by("id")
    serializer_class = ArticleSerializer


class ArticleDetail(generics.RetrieveUpdateAPIView[Article]):
    queryset = Article.objects.all()
    serializer_class = ArticleSerializer
