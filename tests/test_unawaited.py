"""`tests/unawaited.py`: a coroutine never awaited fails the test that left it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CASES = """
import asyncio
import gc

import pytest


async def job():
    return 1


class Holder:
    pass


def test_dropped_coroutine():
    job()


def test_coroutine_in_a_cycle():
    holder = Holder()
    holder.me = holder
    holder.coro = job()
    del holder


def test_expected_with_pytest_warns():
    with pytest.warns(RuntimeWarning, match="never awaited"):
        job()
        gc.collect()


def test_awaited():
    assert asyncio.run(job()) == 1
"""


def _run(tmp_path: Path, name: str = "test_cases.py") -> subprocess.CompletedProcess[str]:
    if name == "test_cases.py":
        (tmp_path / name).write_text(CASES)
    (tmp_path / "pytest.ini").write_text("[pytest]\nfilterwarnings = error\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.unawaited",
            "-p",
            "no:django",
            "-p",
            "no:asyncio",
            "-p",
            "no:cacheprovider",
            "-rA",
            name,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env=env,
        check=False,
    )


def test_a_never_awaited_coroutine_fails_the_test_that_created_it(tmp_path: Path) -> None:
    result = _run(tmp_path)
    out = result.stdout
    assert result.returncode == 1, out
    assert "FAILED test_cases.py::test_dropped_coroutine" in out, out
    assert "PASSED test_cases.py::test_expected_with_pytest_warns" in out, out
    assert "PASSED test_cases.py::test_awaited" in out, out


def test_a_coroutine_in_a_reference_cycle_is_blamed_on_its_test(tmp_path: Path) -> None:
    out = _run(tmp_path).stdout
    assert "ERROR test_cases.py::test_coroutine_in_a_cycle" in out, out
    section = out.split("ERROR at teardown of test_coroutine_in_a_cycle")[1]
    blame = section.split("\n", 1)[1].split("\n____")[0]
    assert "coroutine 'job' was never awaited" in blame, out
    assert "Coroutine created at" in blame, out
    assert "in test_coroutine_in_a_cycle" in blame, out


OUTSIDE = """
import pytest


async def job():
    return 1


@pytest.fixture(scope="module")
def leaky():
    job()
    return 1


def test_uses_a_module_fixture_that_leaks(leaky):
    assert leaky == 1
"""


def test_a_coroutine_lost_outside_any_test_fails_the_session(tmp_path: Path) -> None:
    (tmp_path / "test_outside.py").write_text(OUTSIDE)
    result = _run(tmp_path, "test_outside.py")
    assert result.returncode == 1, result.stdout
    assert "coroutines never awaited outside a test" in result.stdout
    assert "coroutine job was never awaited; created at" in result.stdout
    assert "in leaky" in result.stdout
