"""
Redis for the tests: a throwaway `redis-server`, a server that never answers, and a server's
command counts. Tests never mock Redis.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from tests.support.processes import LOOPBACK, bindable, redis_server_argv, start, stop


def start_redis(port: int, *options: str, timeout: float = 10.0) -> subprocess.Popen[bytes]:
    """A throwaway redis-server on 127.0.0.1:`port` (plus `options`), once it accepts."""
    binary = shutil.which("redis-server") or "redis-server"
    return start(
        redis_server_argv(port, *options, binary=binary),
        port,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_redis(proc: subprocess.Popen[bytes]) -> None:
    """Stop a redis-server from `start_redis` by its PID, with bounded waits."""
    stop(proc)


class BlackHole:
    """A TCP server on loopback that accepts connections and never answers."""

    def __init__(self, backlog: int = 64) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOPBACK, 0))
        self.sock.listen(backlog)
        self.port = int(self.sock.getsockname()[1])
        self.url = f"redis://{LOOPBACK}:{self.port}/0"
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


def command_calls(url: str) -> dict[str, int]:
    """Calls per command on the Redis server at `url` since its last `CONFIG RESETSTAT`."""
    import redis

    with redis.Redis.from_url(url) as client:
        stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): value["calls"] for name, value in stats.items()}


def start_sentinel(conf: Path, port: int, timeout: float = 10.0) -> subprocess.Popen[bytes]:
    """A Redis Sentinel from the config file `conf`, once it accepts on 127.0.0.1:`port`."""
    binary = shutil.which("redis-server") or "redis-server"
    return start(
        [binary, str(conf), "--sentinel"],
        port,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def cli(port: int, *args: str, timeout: float = 10.0) -> str:
    """`redis-cli -p port args...`; its output."""
    out = subprocess.run(
        ["redis-cli", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return out.stdout


def form_cluster(ports: list[int], timeout: float = 30.0) -> None:
    """Join the cluster-enabled servers on `ports` into one Cluster of masters; wait until ok."""
    subprocess.run(
        [
            "redis-cli",
            "--cluster",
            "create",
            *(f"{LOOPBACK}:{port}" for port in ports),
            "--cluster-replicas",
            "0",
            "--cluster-yes",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    )
    # Every node must see the cluster as ok: one that does not yet answers CLUSTERDOWN.
    deadline = time.monotonic() + timeout
    for port in ports:
        while "cluster_state:ok" not in cli(port, "cluster", "info"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"node {port} did not reach cluster_state:ok")
            time.sleep(0.05)


def cluster_port() -> int:
    """A free port for a Cluster node, whose bus listens on port + 10000 (free too)."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if bindable(port) and bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def rq_url(redis_url: str) -> str:
    """The run's redis-server, on a database of its own so RQ's keys stay out of other tests'."""
    return redis_url.rsplit("/", 1)[0] + "/7"
