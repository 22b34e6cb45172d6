"""Pieces shared by the peers' views: permissions and the upstream call of `fanout`."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from django.conf import settings
from rest_framework.permissions import BasePermission

FANOUT_CALLS = 5
FANOUT_MS = 200


class HasClientHeader(BasePermission):
    """A sync permission with no I/O (reads a header)."""

    inline_safe = True  # daf_drf: pure, so it runs on the loop

    def has_permission(self, request: Any, view: Any) -> bool:
        return "x-bench-client" in request.headers


class AsyncHasClientHeader(BasePermission):
    """The same check written `async def`, as an async permission class would be."""

    async def has_permission(self, request: Any, view: Any) -> bool:  # type: ignore[override]
        return "x-bench-client" in request.headers


_clients: dict[int, httpx.AsyncClient] = {}


def upstream_client() -> httpx.AsyncClient:
    # One pooled client per event loop: httpx clients are bound to the loop they run on.
    loop = asyncio.get_running_loop()
    client = _clients.get(id(loop))
    if client is None:
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
        client = httpx.AsyncClient(base_url=settings.UPSTREAM_URL, limits=limits, timeout=10)
        _clients[id(loop)] = client
    return client


async def fan_out() -> list[int]:
    client = upstream_client()
    responses = await asyncio.gather(
        *(client.get(f"/slow?ms={FANOUT_MS}&i={i}") for i in range(FANOUT_CALLS))
    )
    return [r.status_code for r in responses]
