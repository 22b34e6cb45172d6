"""django-ninja async operations."""

from __future__ import annotations

import asyncio
from typing import Any

from ninja import NinjaAPI

from bench.project.common import fan_out

api = NinjaAPI(urls_namespace="ninja")


@api.get("/hello")
async def hello(request: Any) -> dict[str, str]:
    return {"message": "hello"}


@api.get("/io")
async def io(request: Any) -> dict[str, str]:
    await asyncio.sleep(0.05)
    return {"message": "slept 50 ms"}


@api.get("/fanout")
async def fanout(request: Any) -> dict[str, list[int]]:
    return {"statuses": await fan_out()}
