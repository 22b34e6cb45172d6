"""Views of the uvicorn end-to-end project."""

from __future__ import annotations

import asyncio
from typing import Any

from django.urls import path
from rest_framework import exceptions
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from daf_drf.decorators import api_view, permission_classes
from daf_drf.views import APIView


class Items(APIView):
    async def get(self, request: Any) -> Response:
        await asyncio.sleep(0)
        return Response({"items": [1, 2, 3]})

    async def post(self, request: Any) -> Response:
        return Response({"created": request.data}, status=201)


class AsyncDeny(BasePermission):
    message = "Async permission denied."

    async def has_permission(self, request: Any, view: Any) -> bool:
        return False


@api_view(["GET"])
@permission_classes([AsyncDeny])
async def denied(request: Any) -> Response:
    return Response({})


@api_view(["GET"])
async def crash(request: Any) -> Response:
    raise RuntimeError("SECRET-e2e /srv/secret.py")


@api_view(["GET"])
async def throttled(request: Any) -> Response:
    raise exceptions.Throttled(wait=9)


urlpatterns = [
    path("items/", Items.as_view()),
    path("denied/", denied),
    path("crash/", crash),
    path("throttled/", throttled),
]
