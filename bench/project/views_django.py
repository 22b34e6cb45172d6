"""Plain Django `async def` views: the reference every ratio is measured against."""

from __future__ import annotations

import asyncio

from django.http import HttpRequest, JsonResponse

from bench.project.common import fan_out


async def hello(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"message": "hello"})


async def io(request: HttpRequest) -> JsonResponse:
    await asyncio.sleep(0.05)
    return JsonResponse({"message": "slept 50 ms"})


async def fanout(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"statuses": await fan_out()})
