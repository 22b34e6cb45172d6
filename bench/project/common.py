"""Pieces shared by the peers' views: permissions and the upstream calls of `fanout`."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

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


async def _get(host: str, port: int, path: str) -> int:
    # A minimal HTTP/1.0 GET over asyncio streams. The case measures the frameworks, and
    # httpx's connection pool costs about 45 ms of CPU per 5-call fan-out at 16 concurrent
    # requests (measured), which would dominate every peer alike.
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        status_line = await reader.readline()
        await reader.read()  # HTTP/1.0: the server closes after the body
    finally:
        writer.close()
        await writer.wait_closed()
    return int(status_line.split()[1])


async def fan_out() -> list[int]:
    upstream = urlsplit(settings.UPSTREAM_URL)
    host, port = upstream.hostname or "127.0.0.1", upstream.port or 80
    return list(
        await asyncio.gather(
            *(_get(host, port, f"/slow?ms={FANOUT_MS}&i={i}") for i in range(FANOUT_CALLS))
        )
    )
