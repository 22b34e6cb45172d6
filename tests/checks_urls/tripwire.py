"""A URLconf that records each read of its patterns: which checks walk the URLconf."""

from __future__ import annotations

reads: list[str] = []


def __getattr__(name: str) -> object:
    if name == "urlpatterns":
        reads.append(name)
        return []
    raise AttributeError(name)
