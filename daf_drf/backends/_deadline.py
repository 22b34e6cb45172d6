"""
A store deadline that the event loop's own backlog does not trip.

`asyncio.timeout(t)` cancels a task `t` seconds after it started, whatever the reason it has
not finished. Under load that reason is usually the loop, not the store: the reply sits in the
socket buffer while the loop runs hundreds of other requests, and the timer, which the loop
runs before the task that would read the reply, cancels a check the store already answered. A
throttle that then applies its failure mode admits (or refuses) requests it should not, exactly
when traffic is highest.

`store_deadline(t)` counts only the time during which the loop was free to notice a reply: a
ticker runs every `t / TICKS` seconds and measures how late it fires. A tick on time adds its
interval to the waited time; a late tick means the loop was busy, so that interval does not
count. The check is abandoned once `t` seconds of responsive waiting have passed (a store that
never answers, on an idle loop, is abandoned after `t` plus at most one tick), and in any case
after `CAP` times `t`.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

TICKS = 10
# A tick later than this (or than a tick's own length, if longer) means the loop was busy.
LAG = 0.01
# Whatever the loop's backlog, a check is abandoned after this many timeouts.
CAP = 20


class store_deadline:  # lower case: used like asyncio.timeout
    """`async with store_deadline(seconds):` bounds a store call; raises `TimeoutError`."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._interval = timeout / TICKS
        self._lag = max(LAG, self._interval)
        self._waited = 0.0
        self._expired = False

    async def __aenter__(self) -> store_deadline:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("store_deadline() must be used inside a task")
        self._task = task
        self._start = self._loop.time()
        self._schedule(self._start)
        return self

    def _schedule(self, now: float) -> None:
        due = now + self._interval
        self._handle = self._loop.call_at(due, self._tick, due)

    def _tick(self, due: float) -> None:
        now = self._loop.time()
        if now - due <= self._lag:
            self._waited += now - due + self._interval
        if self._waited < self._timeout and now - self._start < CAP * self._timeout:
            self._schedule(now)
            return
        self._expired = True
        self._task.cancel()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._handle.cancel()
        if self._expired and exc_type is asyncio.CancelledError and self._task.uncancel() == 0:
            raise TimeoutError(f"no answer within {self._timeout}s") from exc
