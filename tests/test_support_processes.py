"""
The test harness's process helpers (tests/support/processes.py): every wait is bounded, and
every process it starts is gone when the helper returns or raises.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import free_port, running, start, stop, wait_for_http

SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]
IGNORES_SIGTERM = [
    sys.executable,
    "-c",
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)",
]


def gone(pid: int, within: float = 5.0) -> bool:
    """True once no process (a zombie counts as gone) has `pid`, polled for `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


def test_a_process_that_exits_before_listening_fails_at_once_with_its_exit_code() -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="exited with 3"):
        start([sys.executable, "-c", "raise SystemExit(3)"], free_port(), timeout=30)
    assert time.monotonic() - started < 10


def test_a_process_that_never_listens_is_stopped_when_the_wait_times_out(
    tmp_path: Path,
) -> None:
    pidfile = tmp_path / "pid"
    argv = ["sh", "-c", f"echo $$ > {pidfile}; exec sleep 60"]
    with pytest.raises(RuntimeError, match="nothing listened"):
        start(argv, free_port(), timeout=0.5)
    assert gone(int(pidfile.read_text()))


def test_stop_kills_a_process_that_ignores_sigterm_after_the_timeout() -> None:
    proc = subprocess.Popen(IGNORES_SIGTERM, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"
    stop(proc, timeout=0.5)
    assert proc.returncode == -9
    proc.stdout.close()


def test_stop_of_a_group_stops_the_children_the_leader_forked(tmp_path: Path) -> None:
    pidfile = tmp_path / "child"
    argv = ["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"]
    proc = start(argv, group=True)
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    stop(proc, group=True)
    assert gone(int(pidfile.read_text()))


def test_running_stops_the_process_when_the_block_raises() -> None:
    with pytest.raises(ZeroDivisionError), running(SLEEP) as proc:
        1 / 0  # noqa: B018
    assert proc.returncode is not None


@pytest.fixture
def http_error_server() -> Iterator[str]:
    # The bare handler answers every GET with 501 Unsupported method.
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_wait_for_http_takes_an_error_status_for_an_answer(http_error_server: str) -> None:
    wait_for_http(http_error_server, timeout=5)


def test_wait_for_http_gives_up_after_its_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="did not answer"):
        wait_for_http(f"http://127.0.0.1:{free_port()}/", timeout=0.5)
    assert time.monotonic() - started < 5


def test_free_port_can_be_bound_on_loopback() -> None:
    import socket

    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))  # OSError if it were taken
        assert sock.getsockname()[1] == port
