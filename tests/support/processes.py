"""
Processes on loopback: find a free port, start a process, wait until it listens, stop it.

Every wait is bounded and every process is stopped by its PID (or, when it was started in a
session of its own, by its process group, so the workers it forked stop with it), also when
the test that started it fails:

    with running(["redis-server", "--port", str(port)], port) as proc:
        ...
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from typing import Any

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def bindable(port: int) -> bool:
    """Whether `port` on 127.0.0.1 can be bound right now."""
    with socket.socket() as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _wait_until(
    ready: Callable[[], bool],
    waiting_for: str,
    failure: str,
    timeout: float,
    proc: subprocess.Popen[Any] | None,
    interval: float,
) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"process {proc.pid} exited with {proc.returncode} before {waiting_for}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(f"{failure} within {timeout}s")
        time.sleep(interval)


def wait_for_port(
    port: int,
    timeout: float = 10.0,
    proc: subprocess.Popen[Any] | None = None,
    interval: float = 0.05,
) -> None:
    """
    Return once something accepts TCP connections on 127.0.0.1:`port`.

    Raise `RuntimeError` after `timeout` seconds, or as soon as `proc` (the process expected
    to listen) has exited.
    """

    def listening() -> bool:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.2):
                return True
        except OSError:
            return False

    where = f"{LOOPBACK}:{port}"
    _wait_until(
        listening,
        f"it listened on {where}",
        f"nothing listened on {where}",
        timeout,
        proc,
        interval,
    )


def wait_for_http(
    url: str,
    timeout: float = 30.0,
    proc: subprocess.Popen[Any] | None = None,
    interval: float = 0.2,
) -> None:
    """
    Return once `url` answers HTTP, with any status: the server behind it is up.

    Raise `RuntimeError` after `timeout` seconds, or as soon as `proc` (the server) has exited.
    """

    def answers() -> bool:
        try:
            urllib.request.urlopen(url, timeout=1).close()
        except urllib.error.HTTPError:
            return True  # an error status is an answer
        except OSError:
            return False
        return True

    _wait_until(answers, f"{url} answered", f"{url} did not answer", timeout, proc, interval)


def _signal(proc: subprocess.Popen[Any], sig: int, group: bool) -> None:
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, sig)
        else:
            os.kill(proc.pid, sig)


def stop(
    proc: subprocess.Popen[Any],
    timeout: float = 10.0,
    group: bool = False,
    sig: int = signal.SIGTERM,
) -> None:
    """
    Stop `proc` by its PID: `sig` (SIGTERM; SIGINT for a graceful uvicorn), wait up to
    `timeout` seconds, then SIGKILL and wait again.

    With `group`, signal its whole process group (start it with `start_new_session=True`):
    the group is signalled even when the leader has exited, so no forked worker outlives it.
    """
    if group or proc.poll() is None:
        _signal(proc, sig, group)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        _signal(proc, signal.SIGKILL, group)
        proc.wait(timeout=timeout)


def start(
    argv: Sequence[str],
    port: int | None = None,
    *,
    timeout: float = 10.0,
    group: bool = False,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """
    Start `argv` and, with `port`, wait up to `timeout` seconds until it listens there.

    A process that does not listen in time is stopped before the `RuntimeError` is raised.
    `group` starts it in a session of its own (see `stop`); `popen` goes to `subprocess.Popen`.
    """
    proc: subprocess.Popen[bytes] = subprocess.Popen(list(argv), start_new_session=group, **popen)
    if port is not None:
        try:
            wait_for_port(port, timeout, proc)
        except BaseException:
            stop(proc, group=group)
            raise
    return proc


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    port: int | None = None,
    *,
    timeout: float = 10.0,
    group: bool = False,
    stop_timeout: float = 10.0,
    **popen: Any,
) -> Iterator[subprocess.Popen[bytes]]:
    """`start` the process for the block, then `stop` it, however the block ends."""
    proc = start(argv, port, timeout=timeout, group=group, **popen)
    try:
        yield proc
    finally:
        stop(proc, timeout=stop_timeout, group=group)


def redis_server_argv(port: int, *options: str, binary: str = "redis-server") -> list[str]:
    """A `redis-server` command line on 127.0.0.1:`port` with persistence off."""
    return [
        binary,
        "--bind",
        LOOPBACK,
        "--port",
        str(port),
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
        *options,
    ]
