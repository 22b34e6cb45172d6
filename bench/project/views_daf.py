"""daf_drf views: the DRF views above after the import swap and `async def`."""

from __future__ import annotations

import asyncio
from typing import Any

from rest_framework.response import Response

from bench.project.common import AsyncHasClientHeader, HasClientHeader, fan_out
from bench.project.models import Item
from bench.project.serializers import ItemSerializer
from daf_drf import generics
from daf_drf.authentication import TokenAuthentication
from daf_drf.throttling import AnonRateThrottle
from daf_drf.views import APIView


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


class Burst(AnonRateThrottle):
    scope = "burst"


class Throttled(Hello):
    """Two throttles on the Redis store (DAF_DRF["THROTTLE_STORE"])."""

    throttle_classes = [AnonRateThrottle, Burst]


class List1000(generics.ListAPIView[Item]):
    queryset = Item.objects.select_related("publisher").order_by("id")[:1000]
    serializer_class = ItemSerializer
    pagination_class = None


class Create(generics.CreateAPIView[Item]):
    queryset = Item.objects.all()
    serializer_class = ItemSerializer


class Fanout(APIView):
    async def get(self, request: Any) -> Response:
        return Response({"statuses": await fan_out()})
