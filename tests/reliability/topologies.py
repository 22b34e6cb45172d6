"""
Redis topologies started on loopback for the scale-out tests: a 3-master Cluster, and a
master with a replica watched by a Sentinel. Every process is Debian's `redis-server`, with
persistence off, stopped by PID.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import free_port, stop
from tests.support.redis import cli, cluster_port, form_cluster, start_redis, start_sentinel


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
            stop(proc)


def _server(tmp: Path, name: str, port: int, *extra: str) -> subprocess.Popen[bytes]:
    folder = tmp / name
    folder.mkdir(parents=True, exist_ok=True)
    return start_redis(port, "--dir", str(folder), *extra)


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
            port = cluster_port()
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
        ports = list(topology.ports.values())
        form_cluster(ports)
        topology.url = f"redis+cluster://127.0.0.1:{ports[0]}/0"
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
        topology.procs["replica"] = _server(
            tmp, "replica", replica, "--replicaof", "127.0.0.1", str(master)
        )
        conf = tmp / "sentinel.conf"
        conf.write_text(
            f"port {watcher}\nbind 127.0.0.1\ndir {tmp}\n"
            f"sentinel monitor mymaster 127.0.0.1 {master} 1\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 5000\n"
            "sentinel parallel-syncs mymaster 1\n"
        )
        topology.procs["sentinel"] = start_sentinel(conf, watcher)
        deadline = time.monotonic() + 30
        while "master_link_status:up" not in cli(replica, "info", "replication"):
            if time.monotonic() > deadline:
                raise RuntimeError("the replica did not sync with the master")
            time.sleep(0.1)
        while "slaves=1" not in cli(watcher, "info", "sentinel"):
            if time.monotonic() > deadline:
                raise RuntimeError("the sentinel did not discover the replica")
            time.sleep(0.1)
        topology.url = f"redis+sentinel://127.0.0.1:{watcher}/mymaster/0"
        yield topology
    finally:
        topology.stop()


def current_master_port(topology: Topology) -> int:
    reply = cli(topology.ports["sentinel"], "sentinel", "get-master-addr-by-name", "mymaster")
    return int(reply.split()[1])
