"""
The contract every throttle store implements (`Store`), and the record a check returns.

A store answers one question atomically: "record a request under `key` if fewer than
`num_requests` were recorded in the last `duration` seconds". The answer is a `Decision`,
from which a throttle computes DRF's `wait()` and the optional RateLimit headers.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, overload

__all__ = ["Check", "Decision", "History", "OutageLog", "Store", "StoreUnavailable"]

logger = logging.getLogger("daf_drf.throttling")


class StoreUnavailable(Exception):
    """The store is down, refused the connection, or did not answer within the timeout."""


@dataclass(frozen=True, slots=True)
class Decision:
    """
    The outcome of one throttle check.

    `count` and `oldest` describe the history *after* the check: trimmed to the window and,
    when `allowed`, including `now`. `oldest` is `None` when the history is empty.
    """

    allowed: bool
    now: float
    count: int
    oldest: float | None
    newest: float | None = None
    # When the history is full: the timestamp whose expiry admits the next request (the
    # `num_requests`-th newest). It exceeds `oldest` only after a rate decrease.
    admit_at: float | None = None


def _history_decision(
    allowed: bool, now: float, history: Sequence[float], admit_at: float | None = None
) -> Decision:
    """The `Decision` of a check that left `history` (DRF's list, newest first) under its key."""
    return Decision(
        allowed=allowed,
        now=now,
        count=len(history),
        oldest=history[-1] if history else None,
        newest=history[0] if history else None,
        admit_at=admit_at,
    )


class History(Sequence[float]):
    """
    A read-only view of a key's history, for stores that don't ship the whole list.

    It answers what DRF's `wait()` and typical subclasses ask of `self.history`: `len()`,
    truthiness, `history[0]` (newest) and `history[-1]` (oldest). Other indexes raise
    `IndexError`, because those timestamps never left the store.
    """

    __slots__ = ("_count", "_newest", "_oldest")

    def __init__(self, decision: Decision) -> None:
        self._count = decision.count
        self._oldest = decision.oldest
        self._newest = decision.newest if decision.newest is not None else decision.oldest

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[float]: ...
    def __getitem__(self, index: int | slice) -> float | Sequence[float]:
        if isinstance(index, slice):
            raise IndexError("History views support only [0] and [-1].")
        if self._count and index in (-1, self._count - 1) and self._oldest is not None:
            return self._oldest
        if self._count and index in (0, -self._count) and self._newest is not None:
            return self._newest
        raise IndexError(f"History view has no entry {index}: only [0] and [-1] are kept.")

    def __iter__(self) -> Iterator[float]:
        if self._count:
            yield self[0]
            if self._count > 1:
                yield self[-1]

    def __repr__(self) -> str:
        return f"<History count={self._count} newest={self._newest} oldest={self._oldest}>"


# One check, as `Store.ahit_many` takes it: (key, num_requests, duration, now).
Check = tuple[str, int, int, float | None]


class Store(ABC):
    """
    A throttle store: the contract every store implements (memory, cache, Redis, your own).

    One question: "record a request under `key` if fewer than `num_requests` were recorded
    in the last `duration` seconds", answered atomically where the store can (each store
    states its guarantee). `hit` asks it for sync
    callers (DRF views), `ahit` for the event loop (daf_drf views): same keys, same data.
    `now` is the throttle's clock (`self.timer()`), or `None` to let the store use its own
    clock where it has one (`has_clock`). A store that cannot answer within its timeout raises
    `StoreUnavailable`, and the throttle applies `THROTTLE_FAILURE`; any other exception is a
    bug and surfaces as one.

    `ahit_many` checks every throttle of a request: the default asks `ahit` once per check, in
    order; a store that can do them in one round trip (Redis) overrides it.

    Usage:

        class MyStore(Store):
            name = "my-store"

            def hit(self, key, num_requests, duration, now):
                ...                            # returns a Decision

            async def ahit(self, key, num_requests, duration, now):
                ...

        class MyThrottle(UserRateThrottle):
            def get_store(self):
                return MY_STORE                # one shared instance
    """

    #: How logs and errors name the store.
    name: str = "a throttle store"
    #: Whether `now=None` means the store's own clock (else the caller's `self.timer()`).
    has_clock: ClassVar[bool] = False

    @abstractmethod
    def hit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        """Record a request under `key` if the window has room; return the `Decision`."""

    @abstractmethod
    async def ahit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        """`hit` for the event loop: must not block it."""

    async def ahit_many(self, checks: Sequence[Check]) -> list[Decision]:
        """
        The decisions of several checks, applied in order (every throttle of one request).

        This default awaits `ahit` for each in turn; `StoreUnavailable` from any of them fails
        the whole batch (the checks before it stay recorded). A store that can apply them
        atomically together, in one round trip, overrides it.
        """
        return [await self.ahit(*check) for check in checks]


class OutageLog:
    """Log a store outage once when it starts and once when it ends, whatever the traffic."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.down = False
        self._lock = threading.Lock()

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self.down:
                return
            self.down = True
        logger.warning(
            "daf_drf: throttle store %s is unavailable (%s: %s); applying THROTTLE_FAILURE "
            "until it answers again.",
            self.name,
            type(exc).__name__,
            exc,
        )

    def succeeded(self) -> None:
        if not self.down:  # the common path: no lock
            return
        with self._lock:
            if not self.down:
                return
            self.down = False
        logger.warning("daf_drf: throttle store %s is available again.", self.name)
