"""
Counting thread hops: every `sync_to_async` call made while a `ThreadHops` block is open.

The counter wraps `asgiref.sync.SyncToAsync.__call__` (every `sync_to_async(...)(...)` goes
through it, Django's own included) and records, for each call, the function it hops with and
whether it happened inside a daf_drf view's `dispatch`. "Inside" is read from the frames of
the awaiting coroutines, which are on the stack while the hop starts, so nothing in daf_drf is
patched:

    with ThreadHops() as hops:
        await client.get("/")
    assert hops.inside_views == 0, hops.calls

`count_hops()` is the short form when only the names matter: it yields the list of names,
filled as the block runs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import CodeType, TracebackType
from typing import Any

from asgiref.sync import SyncToAsync

from daf_drf.views import APIView

_DISPATCH_CODES: frozenset[CodeType] = frozenset({APIView.dispatch.__code__})


def _inside_dispatch() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code in _DISPATCH_CODES:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def hop_name(func: Any) -> str:
    """The name a hop is recorded under: the function's qualified name (`Class.method`)."""
    func = getattr(func, "__func__", func)
    return getattr(func, "__qualname__", None) or type(func).__qualname__


@dataclass
class ThreadHops:
    """Counts `sync_to_async` calls; `calls` lists `(function name, inside a view)`."""

    calls: list[tuple[str, bool]] = field(default_factory=list)
    #: The same calls' names, in order (a list filled as the block runs).
    functions: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.calls)

    @property
    def inside_views(self) -> int:
        return sum(1 for _, inside in self.calls if inside)

    @property
    def outside_views(self) -> int:
        return self.total - self.inside_views

    def names(self, inside: bool | None = None) -> list[str]:
        return [name for name, where in self.calls if inside is None or where == inside]

    def __enter__(self) -> ThreadHops:
        original = SyncToAsync.__call__
        self._original = original
        hops = self

        async def counting_call(self: SyncToAsync[Any, Any], *args: Any, **kwargs: Any) -> Any:
            name = hop_name(self.func)
            hops.calls.append((name, _inside_dispatch()))
            hops.functions.append(name)
            return await original(self, *args, **kwargs)

        SyncToAsync.__call__ = counting_call  # type: ignore[method-assign]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        SyncToAsync.__call__ = self._original  # type: ignore[method-assign]


@contextmanager
def count_hops() -> Iterator[list[str]]:
    """The names of the `sync_to_async` calls made while the block runs, in order."""
    with ThreadHops() as hops:
        yield hops.functions
