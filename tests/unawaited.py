"""
A pytest plugin: a coroutine that is never awaited fails the test that left it.

Python reports such a coroutine with `RuntimeWarning: coroutine ... was never awaited` when it
is finalized. pyproject's `error` filter turns that warning into an exception raised inside a
finalizer, which pytest's unraisable-exception hook reports as a failure of the test phase in
which it happened. Two gaps remain, and this plugin closes them:

- a coroutine held in a reference cycle is finalized by the garbage collector, often during a
  later test, which then takes the blame. Each test ends with a young-generation collection
  (cheap; the cycles a test just made are young), so the warning fails the test that created
  the coroutine, and coroutine origin tracking is on, so the message says where it was
  created;
- a coroutine finalized outside any test (between tests, in class-level set-up, or found by
  the full collection at the end of the session) is recorded where CPython issues the warning
  (`warnings._warn_unawaited_coroutine`) and fails the session.

A test that creates one on purpose asserts it with `pytest.warns(RuntimeWarning)`.

Loaded for `tests/` and `compat/` by the root `conftest.py`.
"""

from __future__ import annotations

import gc
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

# Frames kept per coroutine: enough to reach the test from inside asgiref/Django's handler.
ORIGIN_DEPTH = 24

_found: list[str] = []
_in_test = False
_original: Any = None


def describe(coro: Any) -> str:
    """`coroutine X was never awaited`, with where it was created if origin tracking was on."""
    name = getattr(coro, "__qualname__", None) or repr(coro)
    origin = getattr(coro, "cr_origin", None)
    if not origin:
        return f"coroutine {name} was never awaited (created before origin tracking was on)"
    frames = "".join(
        f"\n    {filename}:{lineno} in {function}"
        for filename, lineno, function in reversed(origin)
    )
    return f"coroutine {name} was never awaited; created at (most recent call first):{frames}"


def _warn_unawaited_coroutine(coro: Any) -> None:
    # During a test, the warning itself (an error by pyproject's filters) fails the test.
    if not _in_test:
        _found.append(describe(coro))
    _original(coro)


def pytest_configure(config: pytest.Config) -> None:
    global _original
    _original = warnings._warn_unawaited_coroutine  # type: ignore[attr-defined]
    warnings._warn_unawaited_coroutine = _warn_unawaited_coroutine  # type: ignore[attr-defined]
    sys.set_coroutine_origin_tracking_depth(ORIGIN_DEPTH)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _original is not None:
        warnings._warn_unawaited_coroutine = _original  # type: ignore[attr-defined]
    sys.set_coroutine_origin_tracking_depth(0)


@pytest.fixture(autouse=True)
def _collect_unawaited_coroutines() -> Iterator[None]:
    """Finalize the cycles a test made before it ends, so that it takes its own blame."""
    global _in_test
    _in_test = True
    try:
        yield
        gc.collect(1)
    finally:
        _in_test = False


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    gc.collect()
    new = list(_found)
    if new:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "coroutines never awaited outside a test", red=True)
            for line in new:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
