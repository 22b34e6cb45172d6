"""
Copies of Django's `ASGIHandler.handle()`, one per shape, with the three thread hops made
replaceable.

Each function is Django's method statement for statement (`daf_drf._asgi_compat` checks at
startup that the installed Django still has that exact method), except that:

- `await signals.request_started.asend(...)` is `await self.astart_request(scope)`;
- `await sync_to_async(response.close)()` is `await self.aclose_response(response, request)`;
- `await signals.request_finished.asend(...)` is `await self.afinish_request()`.

The handler decides in those three methods whether the hop is needed (see `daf_drf.asgi`).
"""

from __future__ import annotations

import asyncio
from contextlib import closing, suppress
from typing import TYPE_CHECKING, Any

from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import get_script_prefix
from django.urls import set_script_prefix

if TYPE_CHECKING:
    from daf_drf.asgi import ASGIHandler

__all__ = ["handle_taskgroup", "handle_tasks"]


async def handle_tasks(self: ASGIHandler, scope: Any, receive: Any, send: Any) -> None:
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
        await self.send_response(error_response, send)  # type: ignore[arg-type]
        await self.aclose_response(error_response, None)  # type: ignore[arg-type]
        return

    async def process_request(request: Any, send: Any) -> Any:
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
        await self.aclose_response(response, request)

    body_file.close()


class _RequestProcessed(Exception):
    pass


async def handle_taskgroup(self: ASGIHandler, scope: Any, receive: Any, send: Any) -> None:
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
