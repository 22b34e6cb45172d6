"""
Drive Django's real `ASGIHandler` with a scope, `receive` and `send`, like a server does.

`receive` hands over the body, then blocks until the response is complete and answers
`http.disconnect` (uvicorn's behaviour); `disconnect_after` instead disconnects as soon as an
event is set, to simulate a client that goes away mid-request.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections


@dataclass
class ASGIResult:
    """What the application sent."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> int | None:
        for message in self.messages:
            if message["type"] == "http.response.start":
                return int(message["status"])
        return None

    @property
    def headers(self) -> dict[str, str]:
        for message in self.messages:
            if message["type"] == "http.response.start":
                return {k.decode().lower(): v.decode() for k, v in message["headers"]}
        return {}

    @property
    def body(self) -> bytes:
        return b"".join(
            m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"
        )

    def json(self) -> Any:
        return json.loads(self.body)


async def asgi_request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    *,
    app: Any = None,
    query: str = "",
    disconnect_after: asyncio.Event | None = None,
) -> ASGIResult:
    """Send one HTTP request through `ASGIHandler` (or `app`) and collect what it sends."""
    app = app or ASGIHandler()
    header_list = [(k.lower().encode(), v.encode()) for k, v in headers]
    if body:
        header_list.append((b"content-length", str(len(body)).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"testserver"), *header_list],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    result = ASGIResult()
    complete = asyncio.Event()
    body_sent = False

    async def receive() -> dict[str, Any]:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await (disconnect_after or complete).wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        result.messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            complete.set()

    # As Django's own test client does: the test database connection belongs to the test, so
    # the handler must not close it at request start and end.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        await asyncio.wait_for(app(scope, receive, send), timeout=20)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return result
