"""
Shared fixtures.

`redis_url` is the throwaway redis-server of this test run: the one `make test` started
(`DAF_DRF_TEST_REDIS_URL`), or, when a module is run on its own, one this session starts on a
free loopback port with persistence off and stops by PID at the end. Tests never mock Redis.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not listen on 127.0.0.1:{port} within {timeout}s")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("DAF_DRF_TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed. Run `make test` (it installs Debian's "
            "`redis-server` package) or install it yourself."
        )
    port = _free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--loglevel",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port)
        os.environ["DAF_DRF_TEST_REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        os.environ.pop("DAF_DRF_TEST_REDIS_URL", None)
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def clean_redis(redis_url: str) -> Iterator[str]:
    """The run's redis-server, flushed before and after the test."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushall()
    try:
        yield redis_url
    finally:
        client.flushall()
        client.close()


class BlackHole:
    """A TCP server on loopback that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def close(self) -> None:
        # shutdown() wakes the accept() call; close() alone may leave it blocked.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(timeout=5)
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    server = BlackHole()
    try:
        yield server
    finally:
        server.close()


def command_calls(url: str) -> dict[str, int]:
    """Calls per command on the Redis server at `url` since its last `CONFIG RESETSTAT`."""
    import redis

    with redis.Redis.from_url(url) as client:
        stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}
