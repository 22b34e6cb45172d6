"""
A minimal ASGI client for tests: one request through a real ASGI app (Django's handler or
daf_drf's), with an explicit scope, `receive` and `send`, on an event loop in a fresh thread.

`receive` returns the body, then blocks until the response is complete and answers
`http.disconnect`, as uvicorn does; `disconnect_when` makes it disconnect earlier.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["request", "run_on_fresh_loop"]


def run_on_fresh_loop(func: Callable[..., Any], *args: Any) -> Any:
    """Run `func(*args)` on a new event loop in a new thread, like a server's loop thread."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(func(*args))
        except BaseException as exc:  # handed back to the test
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="test-loop")
    thread.start()
    thread.join(60)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


async def request(
    app: Any,
    url: str,
    *,
    method: str = "GET",
    body: bytes = b"",
    headers: list[tuple[bytes, bytes]] | None = None,
    root_path: str = "",
    disconnect_when: asyncio.Event | None = None,
    chunks: list[bytes] | None = None,
) -> dict[str, Any]:
    """One request through `app`; returns status, headers, body and the raw messages."""
    messages: list[dict[str, Any]] = []
    done = asyncio.Event()
    incoming = [{"type": "http.request", "body": c, "more_body": True} for c in chunks or []]
    incoming.append({"type": "http.request", "body": body, "more_body": False})

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        if disconnect_when is not None:
            await disconnect_when.wait()
        else:
            await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": root_path + url,
        "raw_path": (root_path + url).encode(),
        "root_path": root_path,
        "query_string": b"",
        "headers": headers or [],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    return {
        "status": start["status"] if start else None,
        "headers": start["headers"] if start else None,
        "body": b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body"),
        "messages": messages,
    }
