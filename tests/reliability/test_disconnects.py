"""
Item 11: a client that goes away cancels its handler quickly, and leaks nothing.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.reliability.server import Server

# The cancelled view queries the database first: on the PostgreSQL pass too.
pytestmark = pytest.mark.database


def marks(tmp_marks: Path, name: str) -> list[float]:
    return sorted(float(p.name.split("-", 1)[1]) for p in tmp_marks.glob(f"{name}-*"))


def marks_dir(server: Server) -> Path:
    environ = Path(f"/proc/{server.proc.pid}/environ").read_bytes().split(b"\0")
    for item in environ:
        if item.startswith(b"RELIABILITY_MARKS="):
            return Path(item.split(b"=", 1)[1].decode())
    raise RuntimeError("server has no RELIABILITY_MARKS")


def open_request(server: Server) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(b"GET /slow HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return sock


def wait_for(folder: Path, name: str, count: int, timeout: float = 10) -> list[float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = marks(folder, name)
        if len(found) >= count:
            return found
        time.sleep(0.01)
    raise AssertionError(f"only {len(marks(folder, name))} {name!r} marks after {timeout}s")


def test_closing_the_connection_cancels_the_handler_within_100_ms(server: Server) -> None:
    folder = marks_dir(server)
    before = len(marks(folder, "cancelled"))
    sock = open_request(server)
    wait_for(folder, "started", len(marks(folder, "started")) + 1)
    closed_at = time.time()
    sock.close()
    cancelled = wait_for(folder, "cancelled", before + 1)[-1]
    assert 0 <= cancelled - closed_at < 0.1, cancelled - closed_at


def test_a_thousand_aborted_requests_leave_no_open_files_or_connections(server: Server) -> None:
    folder = marks_dir(server)
    # Warm up: the first requests open the database connection and the loop's resources.
    for _ in range(3):
        sock = open_request(server)
        time.sleep(0.05)
        sock.close()
    time.sleep(0.5)
    baseline = server.open_fds()
    started_before = len(marks(folder, "started"))
    cancelled_before = len(marks(folder, "cancelled"))
    for batch in range(1, 21):
        socks = [open_request(server) for _ in range(50)]
        # Abort only once every handler of the batch is running: mid-handler disconnects.
        wait_for(folder, "started", started_before + 50 * batch, timeout=30)
        for sock in socks:
            sock.close()
    wait_for(folder, "cancelled", cancelled_before + 1000, timeout=30)
    deadline = time.monotonic() + 10
    while server.open_fds() > baseline and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.open_fds() <= baseline
