"""
Redis topologies started on loopback for the scale-out tests: a 3-master Cluster, and a
master with a replica watched by a Sentinel. Every process is Debian's `redis-server`, with
persistence off, stopped by PID.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.reliability.server import free_port


def _wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listened on 127.0.0.1:{port}")


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _cluster_port() -> int:
    # A cluster node also listens on port + 10000 (its bus), so the port must be <= 55535.
    for _ in range(200):
        port = random.randint(20000, 45000)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("no free port pair for a cluster node")


def _cli(port: int, *args: str, timeout: float = 10) -> str:
    out = subprocess.run(
        ["redis-cli", "-p", str(port), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return out.stdout


@dataclass
class Topology:
    url: str
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        proc.kill()
        proc.wait(timeout=10)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _server(tmp: Path, name: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
            "--loglevel",
            "warning",
            *extra,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _require_binaries() -> None:
    for binary in ("redis-server", "redis-cli"):
        if shutil.which(binary) is None:
            raise RuntimeError(f"{binary} is missing: install Debian's redis-server package")


@contextmanager
def cluster(tmp: Path, masters: int = 3) -> Iterator[Topology]:
    """A Redis Cluster of `masters` masters and no replicas."""
    _require_binaries()
    topology = Topology(url="")
    try:
        for i in range(masters):
            port = _cluster_port()
            topology.ports[f"node{i}"] = port
            topology.procs[f"node{i}"] = _server(
                tmp,
                f"node{i}",
                port,
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(tmp / f"node{i}" / "nodes.conf"),
                "--cluster-node-timeout",
                "2000",
            )
        for port in topology.ports.values():
            _wait_port(port)
        nodes = [f"127.0.0.1:{p}" for p in topology.ports.values()]
        subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *nodes,
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            check=True,
            timeout=60,
        )
        first = next(iter(topology.ports.values()))
        deadline = time.monotonic() + 30
        while "cluster_state:ok" not in _cli(first, "cluster", "info"):
            if time.monotonic() > deadline:
                raise RuntimeError("the cluster did not reach cluster_state:ok")
            time.sleep(0.1)
        topology.url = f"redis+cluster://127.0.0.1:{first}/0"
        yield topology
    finally:
        topology.stop()


@contextmanager
def sentinel(tmp: Path) -> Iterator[Topology]:
    """A master, one replica and one Sentinel (quorum 1) that fails over within seconds."""
    _require_binaries()
    topology = Topology(url="")
    try:
        master, replica, watcher = free_port(), free_port(), free_port()
        topology.ports.update(master=master, replica=replica, sentinel=watcher)
        topology.procs["master"] = _server(tmp, "master", master)
        _wait_port(master)
        topology.procs["replica"] = _server(
            tmp, "replica", replica, "--replicaof", "127.0.0.1", str(master)
        )
        _wait_port(replica)
        conf = tmp / "sentinel.conf"
        conf.write_text(
            f"port {watcher}\nbind 127.0.0.1\ndir {tmp}\n"
            f"sentinel monitor mymaster 127.0.0.1 {master} 1\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 5000\n"
            "sentinel parallel-syncs mymaster 1\n"
        )
        topology.procs["sentinel"] = subprocess.Popen(
            ["redis-server", str(conf), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_port(watcher)
        deadline = time.monotonic() + 30
        while "master_link_status:up" not in _cli(replica, "info", "replication"):
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not sync with the master")
            time.sleep(0.1)
        while "slaves=1" not in _cli(watcher, "info", "sentinel"):
            if time.monotonic() > deadline:
                raise RuntimeError("the sentinel did not discover the replica")
            time.sleep(0.1)
        topology.url = f"redis+sentinel://127.0.0.1:{watcher}/mymaster/0"
        yield topology
    finally:
        topology.stop()


def current_master_port(topology: Topology) -> int:
    reply = _cli(topology.ports["sentinel"], "sentinel", "get-master-addr-by-name", "mymaster")
    return int(reply.split()[1])
