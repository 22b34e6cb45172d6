"""
`fire_and_forget()`: background coroutines for work that may be lost.

Public through `daf_drf.tasks`; see docs/tasks.md for what it guarantees and what it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import weakref
from collections.abc import Coroutine
from functools import partial
from threading import Lock
from typing import Any, TypeVar

from django.http.response import HttpResponseBase

from daf_drf.hooks import inline_safe
from daf_drf.settings import daf_settings

__all__ = ["fire_and_forget"]

T = TypeVar("T")

logger = logging.getLogger("daf_drf.tasks")

# Running coroutines per event loop. No asyncio object lives at module level: each loop gets
# its own set, created on first use and dropped with the loop.
_background: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[asyncio.Task[Any]]]
_background = weakref.WeakKeyDictionary()
_background_lock = Lock()


def fire_and_forget(
    coro: Coroutine[Any, Any, T],
    *,
    after: HttpResponseBase | None = None,
    name: str | None = None,
) -> asyncio.Task[T] | None:
    """
    Run `coro` in the background on the running event loop; return its `asyncio.Task`, or
    `None` when it was dropped.

    The caller does not wait. By default the coroutine starts on the loop's next turn, so it
    never delays the response but may begin before the last byte is sent. With
    `after=response` it starts only once `response` has been sent and closed by the server.

    daf_drf keeps a reference until it finishes, so it is not garbage-collected mid-flight, and
    logs a failure with its traceback on `daf_drf.tasks`. At most
    `DAF_DRF["FIRE_AND_FORGET_LIMIT"]` run (or wait for their response) at once per event
    loop; beyond that the new coroutine is dropped (closed, never started) with a warning,
    because running it inline would delay the response and queueing it would grow without
    bound.

    Nothing else is guaranteed: the work is lost if the process stops or the loop closes, it
    is never retried, and no one can ask for its result. Use a task for anything that matters.

    Usage:

        async def put(self, request, slug):
            response = Response(await self.aupdate(slug, request.data))
            fire_and_forget(warm_cache(slug), after=response)
            return response
    """
    if not inspect.iscoroutine(coro):
        raise TypeError(
            "daf_drf.tasks.fire_and_forget() takes a coroutine object: call the async "
            f"function, as in fire_and_forget(warm_cache(key)); got {type(coro).__name__}."
        )
    if after is not None and not isinstance(after, HttpResponseBase):
        coro.close()
        raise TypeError(
            "daf_drf.tasks.fire_and_forget(after=...) takes the response the view returns; "
            f"got {type(after).__name__}."
        )
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        coro.close()
        raise RuntimeError(
            "daf_drf.tasks.fire_and_forget() must be called from async code on a running "
            "event loop; from sync code, enqueue a task instead."
        ) from None
    with _background_lock:
        running = _background.setdefault(loop, set())
    limit = daf_settings.FIRE_AND_FORGET_LIMIT
    label = name or coro.__qualname__
    if len(running) >= limit:
        logger.warning(
            "fire_and_forget: %d coroutines already run on this event loop "
            '(DAF_DRF["FIRE_AND_FORGET_LIMIT"] = %d); %s was dropped.',
            len(running),
            limit,
            label,
        )
        coro.close()
        return None
    if after is None:
        background = loop.create_task(coro, name=label)
    else:
        gate = asyncio.Event()
        background = loop.create_task(_after_gate(gate, coro), name=label)
        # Django calls a response's closers from `close()`, which every handler (ASGI, WSGI,
        # the test client) calls once the body is sent; it may run in a worker thread.
        after._resource_closers.append(partial(_open_gate, loop, gate))  # type: ignore[attr-defined]
        weakref.finalize(after, _abandon_if_closed_never, loop, gate, background)
    running.add(background)
    background.add_done_callback(_background_done)
    return background


async def _after_gate(gate: asyncio.Event, coro: Coroutine[Any, Any, T]) -> T:
    try:
        await gate.wait()
    except BaseException:
        coro.close()  # never started: no "coroutine was never awaited" warning
        raise
    return await coro


@inline_safe  # thread-safe and non-blocking: `daf_drf.asgi` may close the response on the loop
def _open_gate(loop: asyncio.AbstractEventLoop, gate: asyncio.Event) -> None:
    with contextlib.suppress(RuntimeError):  # The loop closed first: the work is lost.
        loop.call_soon_threadsafe(gate.set)


def _abandon_if_closed_never(
    loop: asyncio.AbstractEventLoop, gate: asyncio.Event, background: asyncio.Task[T]
) -> None:
    # The response was garbage-collected without `close()` (a middleware replaced it, or the
    # client went away first): drop the work instead of waiting forever.
    if gate.is_set() or background.done():
        return
    logger.warning(
        "fire_and_forget: the response was never closed; %s was not run.", background.get_name()
    )
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(background.cancel)


def _background_done(background: asyncio.Task[T]) -> None:
    running = _background.get(background.get_loop())
    if running is not None:
        running.discard(background)
    if background.cancelled():
        return
    exc = background.exception()
    if exc is not None:
        logger.error("fire_and_forget: %s failed.", background.get_name(), exc_info=exc)
