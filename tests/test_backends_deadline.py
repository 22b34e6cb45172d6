"""`store_deadline`: bounded on an idle loop, not tripped by the loop's own backlog."""

from __future__ import annotations

import asyncio
import time

import pytest

from daf_drf.backends._deadline import CAP, store_deadline


@pytest.mark.asyncio
async def test_a_store_that_never_answers_is_abandoned_after_the_timeout() -> None:
    never = asyncio.get_running_loop().create_future()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with store_deadline(0.1):
            await never
    # Abandoned once the timeout of responsive waiting passed (plus at most one tick); the
    # upper bound is loose because a loaded machine may deschedule this process.
    assert 0.1 <= time.monotonic() - started < 0.5


@pytest.mark.asyncio
async def test_an_answer_waiting_behind_a_busy_loop_is_not_cancelled() -> None:
    loop = asyncio.get_running_loop()
    reply = loop.create_future()

    def busy_then_answer() -> None:
        time.sleep(0.25)  # the loop runs other requests' code for longer than the timeout
        # The reply is read in the next iteration, the one in which the overdue timer also
        # runs, and it wakes the waiting task only in the iteration after that: the order a
        # socket read and a due timer take in asyncio's loop.
        loop.call_soon(reply.set_result, "answered")

    loop.call_later(0.01, busy_then_answer)
    async with store_deadline(0.1):
        assert await reply == "answered"


@pytest.mark.asyncio
async def test_a_busy_loop_extends_the_deadline_only_up_to_the_cap() -> None:
    loop = asyncio.get_running_loop()
    never = loop.create_future()
    stop = False

    def hog() -> None:
        time.sleep(0.05)  # every loop iteration is slow: timers always fire late
        if not stop:
            loop.call_soon(hog)

    loop.call_soon(hog)
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            async with store_deadline(0.1):
                await never
    finally:
        stop = True
    assert time.monotonic() - started <= CAP * 0.1 + 1.0


@pytest.mark.asyncio
async def test_an_outer_cancellation_is_not_turned_into_a_timeout() -> None:
    never = asyncio.get_running_loop().create_future()

    async def check() -> None:
        async with store_deadline(10):
            await never

    task = asyncio.create_task(check())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
