"""
Drive Django's real `ASGIHandler` with a scope, `receive` and `send`, like a server does.

`receive` hands over the body, then blocks until the response is complete and answers
`http.disconnect` (uvicorn's behaviour); `disconnect_after` instead disconnects as soon as an
event is set, to simulate a client that goes away mid-request.

`asgi_request` is for tests in a `TestCase` (Django's handler, the test database);
`request` and `run_on_fresh_loop` drive an app on its own loop thread, as a server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
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


def http_scope(
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    *,
    query: str = "",
    root_path: str = "",
    server: tuple[str, int] = ("testserver", 80),
) -> dict[str, Any]:
    """An HTTP scope as uvicorn builds it (`path` includes `root_path`)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": root_path,
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": server,
    }


async def drive(
    app: Any,
    scope: dict[str, Any],
    incoming: list[dict[str, Any]],
    *,
    disconnect_when: asyncio.Event | None = None,
    seconds: float = 20,
) -> list[dict[str, Any]]:
    """
    Call `app` like a server: `receive` hands over `incoming` (the `http.request` messages),
    then blocks until the response is complete (or `disconnect_when` is set) and answers
    `http.disconnect`. Returns every message the app sent.
    """
    messages: list[dict[str, Any]] = []
    pending = list(incoming)
    complete = asyncio.Event()

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        await (disconnect_when or complete).wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            complete.set()

    await asyncio.wait_for(app(scope, receive, send), timeout=seconds)
    return messages


async def asgi_request(
    method: str,
    path: str,
    body: bytes = b"",
    headers: Iterable[tuple[str, str]] = (),
    *,
    app: Any = None,
    query: str = "",
    disconnect_after: asyncio.Event | None = None,
    own_connections: bool = False,
) -> ASGIResult:
    """
    Send one HTTP request through `ASGIHandler` (or `app`) and collect what it sends.

    With `own_connections=False` (inside a `TestCase`) Django's `close_old_connections`
    receivers are disconnected for the request, as Django's test client does: the test
    database connection belongs to the test. With `True` they run, as under a real server.
    """
    app = app or ASGIHandler()
    header_list = [(k.lower().encode(), v.encode()) for k, v in headers]
    if body:
        header_list.append((b"content-length", str(len(body)).encode()))
    scope = http_scope(method, path, [(b"host", b"testserver"), *header_list], query=query)
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    if own_connections:
        messages = await drive(app, scope, incoming, disconnect_when=disconnect_after)
        return ASGIResult(messages)
    with connections_owned_by_the_test():
        messages = await drive(app, scope, incoming, disconnect_when=disconnect_after)
    return ASGIResult(messages)


@contextlib.contextmanager
def connections_owned_by_the_test() -> Iterator[None]:
    """
    Disconnect Django's `close_old_connections` receivers while the block runs, as Django's
    test client does: inside a `TestCase` the connection and its transaction belong to the
    test. (SQLite in memory never closes in a transaction; PostgreSQL would, and the test's
    data would be gone.)
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


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
    """
    One request through `app` with raw headers (no `host` added) and the body in `chunks`
    then `body`; returns status, headers, body and the raw messages. No signal is touched:
    for apps tested as a server runs them, usually on `run_on_fresh_loop`.
    """
    incoming = [{"type": "http.request", "body": c, "more_body": True} for c in chunks or []]
    incoming.append({"type": "http.request", "body": body, "more_body": False})
    scope = http_scope(
        method, root_path + url, headers or [], root_path=root_path, server=("127.0.0.1", 8000)
    )
    messages = await drive(app, scope, incoming, disconnect_when=disconnect_when, seconds=60)
    result = ASGIResult(messages)
    start = next((m for m in messages if m["type"] == "http.response.start"), None)
    return {
        "status": result.status,
        "headers": start["headers"] if start else None,
        "body": result.body,
        "messages": messages,
    }
