"""The demo project served the way `make demo` serves it, for its test and its benchmark."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.support.processes import free_port, running, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def demo_server(
    folder: Path, log: Path | None = None, timeout: float = 60.0, **env: str
) -> Iterator[str]:
    """
    `scripts/demo.sh` (migrate, seed, uvicorn on 127.0.0.1) on a free port, with its SQLite
    file in `folder` and `env` on top of this process's environment; yields its base URL once
    it answers, and stops it by PID (`demo.sh` execs uvicorn) when the block ends. Its output
    goes to the file `log`, if given.
    """
    port = free_port()
    environment = {
        **os.environ,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "DAF_DRF_DEMO_DB": str(folder / "demo.sqlite3"),
        **env,
    }
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        out = stack.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        proc = stack.enter_context(
            running(
                ["bash", "scripts/demo.sh", sys.executable],
                cwd=ROOT,
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
                stop_timeout=15,
            )
        )
        try:
            wait_for_http(f"{base}/upstream/slow?ms=0", timeout, proc)
        except RuntimeError as exc:
            output = log.read_text(errors="replace") if log is not None else ""
            raise RuntimeError(f"the demo did not start: {exc}\n{output}") from None
        yield base
