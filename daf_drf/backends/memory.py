"""
`memory://`: an in-process throttle store.

Zero setup, exact within one process, and nothing more: every worker process keeps its own
counters, so N workers admit up to N times the rate. Use it for development, tests and the demo;
use Redis when more than one process serves the API.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from daf_drf.backends.base import Decision, Store, _history_decision

__all__ = ["MemoryStore"]

DEFAULT_MAX_KEYS = 100_000


class MemoryStore(Store):
    """
    Sliding-window logs in a dict, one lock for the whole store.

    Guarantees: a check is atomic across threads and coroutines of one process (it holds a
    `threading.Lock` for a few microseconds and never awaits), so concurrent callers sharing a
    key are admitted exactly `num_requests` times per window. Memory is bounded: at most
    `max_keys` keys, each holding at most `num_requests` floats; past `max_keys` the least
    recently used key is forgotten, which, like an expired key, starts afresh.

    Usage:

        DAF_DRF = {"THROTTLE_STORE": "memory://"}          # or "memory://?max_keys=10000"
    """

    name = "memory://"

    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if max_keys < 1:
            raise ValueError("MemoryStore max_keys must be at least 1.")
        self.max_keys = max_keys
        # key -> (history newest first, expiry on the caller's clock)
        self._data: OrderedDict[str, tuple[list[float], float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        if now is None:
            import time

            now = time.time()
        with self._lock:
            entry = self._data.get(key)
            history = entry[0] if entry is not None else []
            # Same trim as DRF: drop entries at or before the start of the window.
            edge = now - duration
            while history and history[-1] <= edge:
                history.pop()
            allowed = len(history) < num_requests
            if allowed:
                history.insert(0, now)
                self._data[key] = (history, now + duration)
                self._data.move_to_end(key)
                if len(self._data) > self.max_keys:
                    self._evict()
            elif entry is not None and not history:
                del self._data[key]
            admit_at = history[num_requests - 1] if 0 < num_requests <= len(history) else None
            return _history_decision(allowed, now, history, admit_at)

    async def ahit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        # The lock is held for microseconds and never across an await: calling inline on the
        # loop is cheaper than any thread hop and keeps the check atomic.
        return self.hit(key, num_requests, duration, now)

    def _evict(self) -> None:
        # Least recently admitted first: a forgotten key starts afresh, like an expired one.
        while len(self._data) > self.max_keys:
            self._data.popitem(last=False)

    def clear(self) -> None:
        """Forget every key (tests, or an operator resetting limits)."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)
