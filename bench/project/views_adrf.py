"""adrf's async views (the package DRF's docs point to), written as its README shows."""

from __future__ import annotations

import asyncio
from typing import Any

from adrf import generics
from adrf.serializers import ModelSerializer
from adrf.views import APIView
from rest_framework.authentication import TokenAuthentication
from rest_framework.response import Response

from bench.project.common import AsyncHasClientHeader, HasClientHeader, fan_out
from bench.project.models import Item
from bench.project.views_drf import RedisAnon, RedisBurst


class Hello(APIView):
    async def get(self, request: Any) -> Response:
        return Response({"message": "hello"})


class IO(APIView):
    async def get(self, request: Any) -> Response:
        await asyncio.sleep(0.05)
        return Response({"message": "slept 50 ms"})


class AuthPerm(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [HasClientHeader, AsyncHasClientHeader]

    async def get(self, request: Any) -> Response:
        return Response({"user": request.user.username})


class Throttled(Hello):
    throttle_classes = [RedisAnon, RedisBurst]


class ItemSerializer(ModelSerializer):  # type: ignore[misc]
    class Meta:
        model = Item
        fields = ["id", "title", "isbn", "pages", "price", "published", "publisher"]


class List1000(generics.ListAPIView):  # type: ignore[misc]
    queryset = Item.objects.select_related("publisher").order_by("id")[:1000]
    serializer_class = ItemSerializer
    pagination_class = None


class Create(generics.CreateAPIView):  # type: ignore[misc]
    queryset = Item.objects.all()
    serializer_class = ItemSerializer


class Fanout(APIView):
    async def get(self, request: Any) -> Response:
        return Response({"statuses": await fan_out()})
