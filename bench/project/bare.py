"""A bare ASGI app: the server's upper bound, and the slow upstream of the `fanout` case."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _respond(send: Send, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await _respond(send, b'{"message":"hello"}')


async def upstream(scope: Scope, receive: Receive, send: Send) -> None:
    """`GET /slow?ms=N` answers after N milliseconds."""
    if scope["type"] != "http":
        return
    query = parse_qs(scope.get("query_string", b"").decode())
    await asyncio.sleep(int(query.get("ms", ["200"])[0]) / 1000)
    await _respond(send, b'{"slow":true}')
