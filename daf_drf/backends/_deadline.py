"""
A store deadline that the event loop's own backlog does not trip.

`asyncio.timeout(t)` cancels a task `t` seconds after it started, whatever the reason it has
not finished. Under load that reason is usually the loop, not the store: the reply sits in the
socket buffer while the loop runs hundreds of other requests, and the timer, which the loop
runs before the task that would read the reply, cancels a check the store already answered. A
throttle that then applies its failure mode admits (or refuses) requests it should not, exactly
when traffic is highest.

`store_deadline(t)` cancels only when the loop was free to notice a reply and none came: when
its timer fires late by more than `LAG`, the loop was the bottleneck, so the deadline moves
`t` seconds on. A store that never answers on an idle loop is still abandoned after `t`, and
no check waits longer than `CAP` times `t` in any case.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

# A timer that fires this much later than scheduled means the loop was busy, not idle.
LAG = 0.02
# Whatever the loop's backlog, a check is abandoned after this many timeouts.
CAP = 5


class store_deadline:  # noqa: N801  (used like asyncio.timeout)
    """`async with store_deadline(seconds):` bounds a store call; raises `TimeoutError`."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._expired = False

    async def __aenter__(self) -> store_deadline:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("store_deadline() must be used inside a task")
        self._task = task
        self._start = self._loop.time()
        due = self._start + self._timeout
        self._handle = self._loop.call_at(due, self._fire, due)
        return self

    def _fire(self, due: float) -> None:
        now = self._loop.time()
        if now - due > LAG and now - self._start < CAP * self._timeout:
            # The loop missed this deadline itself: give the store a fresh window.
            due = now + self._timeout
            self._handle = self._loop.call_at(due, self._fire, due)
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
