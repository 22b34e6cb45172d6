"""
Count `sync_to_async` thread hops made while a view runs.

`counting_view(view)` wraps a view function so that every `SyncToAsync` call started inside
it (and only inside it: Django's own middleware and signal hops are outside) is recorded, with
the function it ran, in the `Hops` returned by `count_hops()`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from asgiref.sync import SyncToAsync

_recorder: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "daf_drf_test_hops", default=None
)
_active: list[list[Any]] = []


class Hops(list[Any]):
    """The functions run through `sync_to_async` inside counted views, in order."""

    def names(self) -> list[str]:
        return [getattr(f, "__qualname__", repr(f)) for f in self]

    def not_from(self, *module_prefixes: str) -> list[str]:
        """Names of hops whose function is not defined under one of `module_prefixes`."""
        return [
            getattr(f, "__qualname__", repr(f))
            for f in self
            if not str(getattr(f, "__module__", "")).startswith(module_prefixes)
        ]


_original_call = SyncToAsync.__call__


def _counting_call(self: SyncToAsync, *args: Any, **kwargs: Any) -> Any:
    hops = _recorder.get()
    if hops is not None:
        hops.append(getattr(self.func, "__func__", self.func))
    return _original_call(self, *args, **kwargs)


@contextmanager
def count_hops() -> Iterator[Hops]:
    """Record the hops of every `counting_view` call made while the block runs."""
    hops = Hops()
    _active.append(hops)
    SyncToAsync.__call__ = _counting_call  # type: ignore[method-assign]
    try:
        yield hops
    finally:
        _active.remove(hops)
        if not _active:
            SyncToAsync.__call__ = _original_call  # type: ignore[method-assign]


def counting_view(view: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an async view function so that hops made inside it are recorded."""

    async def counted(request: Any, *args: Any, **kwargs: Any) -> Any:
        token = _recorder.set(_active[-1] if _active else None)
        try:
            return await view(request, *args, **kwargs)
        finally:
            _recorder.reset(token)

    return counted
