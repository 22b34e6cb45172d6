"""DRF's sync views, served by gunicorn (gthread) over WSGI and by uvicorn over ASGI."""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import caches
from rest_framework import generics
from rest_framework.authentication import TokenAuthentication
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from bench.project.common import HasClientHeader
from bench.project.models import Item
from bench.project.serializers import ItemSerializer


class Hello(APIView):
    def get(self, request: Any) -> Response:
        return Response({"message": "hello"})


class IO(APIView):
    def get(self, request: Any) -> Response:
        time.sleep(0.05)
        return Response({"message": "slept 50 ms"})


class AuthPerm(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [HasClientHeader, HasClientHeader]

    def get(self, request: Any) -> Response:
        return Response({"user": request.user.username})


class RedisAnon(AnonRateThrottle):
    cache = caches["redis"]


class RedisBurst(RedisAnon):
    scope = "burst"


class Throttled(Hello):
    throttle_classes = [RedisAnon, RedisBurst]


class List1000(generics.ListAPIView[Item]):
    queryset = Item.objects.select_related("publisher").order_by("id")[:1000]
    serializer_class = ItemSerializer
    pagination_class = None


class Create(generics.CreateAPIView[Item]):
    queryset = Item.objects.all()
    serializer_class = ItemSerializer
