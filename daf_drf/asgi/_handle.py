"""
Django's handler copies: `ASGIHandler.handle()`, one function per shape of that method across
Django versions, with the three thread hops made replaceable.

Each function is Django's method statement for statement (`daf_drf.asgi._guard` checks at
startup that the installed Django still has that exact method), except that:

- `await signals.request_started.asend(...)` is `await self.astart_request(scope)`;
- `await sync_to_async(response.close)()` is `await self.aclose_response(response, request)`;
- `await signals.request_finished.asend(...)` is `await self.afinish_request()`.

The handler decides in those three methods whether the hop is needed (`daf_drf.asgi._handler`).
The functions take the handler as `Handler`, the surface they call, so this module depends
on no other module of the entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import closing, suppress
from typing import IO, Any, Protocol

from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIRequest, get_script_prefix
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix

__all__ = ["Handler", "Receive", "Scope", "Send", "handle_taskgroup", "handle_tasks"]

# The ASGI callables' types, as Django's own `ASGIHandler` declares them.
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


class Handler(Protocol):
    """What the copies call on the handler: Django's methods and the three replaceable hops."""

    async def read_body(self, receive: Receive) -> IO[bytes]: ...

    def create_request(
        self, scope: Scope, body_file: IO[bytes]
    ) -> tuple[ASGIRequest, None] | tuple[None, HttpResponseBase]: ...

    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase: ...

    async def send_response(self, response: HttpResponseBase, send: Send) -> None: ...

    async def listen_for_disconnect(self, receive: Receive) -> None: ...

    async def astart_request(self, scope: Scope) -> None: ...

    async def aclose_response(
        self, response: HttpResponseBase, request: HttpRequest | None
    ) -> None: ...

    async def afinish_request(self) -> None: ...


async def handle_tasks(self: Handler, scope: Scope, receive: Receive, send: Send) -> None:
    """`ASGIHandler.handle()` of Django 5.2 and 6.0."""
    try:
        body_file = await self.read_body(receive)
    except RequestAborted:
        return
    set_script_prefix(get_script_prefix(scope))
    await self.astart_request(scope)
    request, error_response = self.create_request(scope, body_file)
    if request is None:
        body_file.close()
        # mypy cannot tie the two halves of `create_request`'s tuple: `error_response` is set.
        await self.send_response(error_response, send)  # type: ignore[arg-type]
        await self.aclose_response(error_response, None)  # type: ignore[arg-type]
        return

    async def process_request(request: HttpRequest, send: Send) -> HttpResponseBase:
        response = await self.run_get_response(request)
        # A client that disconnects during send_response is ignored.
        with suppress(asyncio.CancelledError):
            await self.send_response(response, send)
        return response

    # The listener goes first: it must not raise errors that would keep process_request()
    # from being cancelled.
    tasks = [
        asyncio.create_task(self.listen_for_disconnect(receive)),
        asyncio.create_task(process_request(request, send)),
    ]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        if task.done():
            try:
                task.result()
            except RequestAborted:
                pass
            except AssertionError:
                body_file.close()
                raise
        else:
            # Allow views to handle cancellation.
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    try:
        response = tasks[1].result()
    except asyncio.CancelledError:
        await self.afinish_request()
    else:
        # `tasks` mixes two task types: the second one's result is the response.
        await self.aclose_response(response, request)  # type: ignore[arg-type]

    body_file.close()


class _RequestProcessed(Exception):
    pass


async def handle_taskgroup(self: Handler, scope: Scope, receive: Receive, send: Send) -> None:
    """`ASGIHandler.handle()` of Django 6.1."""
    try:
        body_file = await self.read_body(receive)
    except RequestAborted:
        return

    with closing(body_file):
        set_script_prefix(get_script_prefix(scope))
        await self.astart_request(scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            # As above: `error_response` is set when `request` is None.
            await self.send_response(error_response, send)  # type: ignore[arg-type]
            await self.aclose_response(error_response, None)  # type: ignore[arg-type]
            return

        response = None
        try:
            try:
                async with asyncio.TaskGroup() as tg:
                    tg.create_task(self.listen_for_disconnect(receive))
                    response = await self.run_get_response(request)
                    await self.send_response(response, send)
                    raise _RequestProcessed
            except* (_RequestProcessed, RequestAborted):
                pass
        except BaseExceptionGroup as exception_group:
            if len(exception_group.exceptions) == 1:
                raise exception_group.exceptions[0]  # noqa: B904 - as Django does
            raise

        if response is None:
            await self.afinish_request()
        else:
            await self.aclose_response(response, request)
