"""Tasks enqueued by the task tests. Module level, as every backend requires."""

from __future__ import annotations

from typing import Any

from daf_drf.tasks import task


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


@task
def explode(reason: str) -> None:
    raise ValueError(f"internal detail: {reason}")
