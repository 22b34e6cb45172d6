"""
In-process microbenchmarks: what one request costs, without a server or a network.

    python -m bench.microbench [--requests 2000] [--repeats 7]

Each path is an ASGI app called directly on uvloop with a fake scope/receive/send (receive
returns the body, then blocks until the response is complete and answers `http.disconnect`,
as uvicorn does). Per path and concurrency it reports, min / median over repeats:

- CPU µs per request (`time.process_time`, all threads),
- `sync_to_async` calls per request (thread hops), counted on `SyncToAsync.__call__`,
- OS threads started per request, counted on `threading.Thread.start`,
- bytes allocated at peak per request (tracemalloc, one request at a time; a measure of
  allocation volume, not a count of allocations).

These numbers are stable on a noisy machine where req/s under load is not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

PATHS = [
    ("django async view", "application", "/django/hello", {}),
    ("DRF sync APIView", "application", "/drf/hello", {}),
    ("adrf APIView", "application", "/adrf/hello", {}),
    ("ninja async", "application", "/ninja/hello", {}),
    ("daf_drf APIView", "application", "/daf/hello", {}),
    ("daf_drf auth+perm", "application", "/daf/authperm", "auth"),
    ("daf_drf throttled (Redis)", "application", "/daf/throttled", {}),
    ("django async view, daf_drf entry", "fast_application", "/django/hello", {}),
    ("daf_drf APIView, daf_drf entry", "fast_application", "/daf/hello", {}),
    ("daf_drf auth+perm, daf_drf entry", "fast_application", "/daf/authperm", "auth"),
    ("daf_drf throttled, daf_drf entry", "fast_application", "/daf/throttled", {}),
]


class Counters:
    """Thread hops (counted by the suite's `ThreadHops`) and threads started while installed."""

    def __init__(self) -> None:
        self.hops = 0
        self.threads = 0

    def install(self) -> Callable[[], None]:
        from tests.support.hops import ThreadHops

        hops = ThreadHops().__enter__()
        original_start = threading.Thread.start
        counters = self

        def counted_start(self: threading.Thread) -> None:
            counters.threads += 1
            original_start(self)

        threading.Thread.start = counted_start  # type: ignore[method-assign]

        def uninstall() -> None:
            hops.__exit__(None, None, None)
            threading.Thread.start = original_start  # type: ignore[method-assign]
            counters.hops = hops.total

        return uninstall


def scope_for(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }


async def one_request(app: Any, scope: dict[str, Any]) -> int:
    done = asyncio.Event()
    sent_body = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(scope, receive, send)
    done.set()
    return status


async def measure(app: Any, scope: dict[str, Any], requests: int, concurrency: int) -> float:
    async def worker(n: int) -> None:
        for _ in range(n):
            status = await one_request(app, scope)
            if status != 200:
                raise RuntimeError(f"{scope['path']} answered {status}")

    per_worker = requests // concurrency
    start = time.process_time()
    await asyncio.gather(*(worker(per_worker) for _ in range(concurrency)))
    return (time.process_time() - start) / (per_worker * concurrency) * 1e6


async def peak_bytes(app: Any, scope: dict[str, Any], requests: int = 50) -> float:
    tracemalloc.start()
    peaks = []
    for _ in range(requests):
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        await one_request(app, scope)
        peaks.append(tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()
    return statistics.median(peaks)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--concurrency", default="1,64")
    parser.add_argument(
        "--only", default="", help="run the paths whose label contains this text (default: all)"
    )
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")
    import shutil
    import tempfile
    from pathlib import Path

    from bench.run import free_port, services

    # Its own database and redis-server, like run.py, stopped by PID at the end.
    workdir = Path(tempfile.mkdtemp(prefix="daf-micro-"))
    redis_port = free_port()
    os.environ["BENCH_DB"] = str(workdir / "bench.sqlite3")
    os.environ["BENCH_REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
    try:
        with services(redis_port, None, dict(os.environ), seed="bench.project.management_seed"):
            return _run(args)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(args: argparse.Namespace) -> int:
    import uvloop

    from bench.project import asgi

    auth = [(b"authorization", b"Token " + b"b" * 40), (b"x-bench-client", b"micro")]
    rows = []
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    for label, entry, path, headers in PATHS:
        if args.only not in label:
            continue
        app = getattr(asgi, entry)
        if app is None:
            rows.append((label, "n/a: entry not available"))
            continue
        scope = scope_for(path, auth if headers == "auth" else [])
        try:
            loop.run_until_complete(measure(app, scope, 200, 1))  # warm-up
        except Exception as exc:
            rows.append((label, f"n/a: {exc}"[:80]))
            continue
        cells = []
        for conc in (int(c) for c in args.concurrency.split(",")):
            samples = [
                loop.run_until_complete(measure(app, scope, args.requests, conc))
                for _ in range(args.repeats)
            ]
            cells.append(f"{min(samples):.0f} / {statistics.median(samples):.0f}")
        counters = Counters()
        uninstall = counters.install()
        try:
            loop.run_until_complete(measure(app, scope, 200, 1))
        finally:
            uninstall()
        peak = loop.run_until_complete(peak_bytes(app, scope))
        rows.append(
            (
                label,
                *cells,
                f"{counters.hops / 200:.2f}",
                f"{counters.threads / 200:.2f}",
                f"{peak / 1024:.1f}",
            )
        )
        print(" | ".join(map(str, rows[-1])), file=sys.stderr, flush=True)
    conc = args.concurrency.split(",")
    print(
        "| path | "
        + " | ".join(f"CPU µs/req c={c} (min / median)" for c in conc)
        + " | sync_to_async calls/req | threads started/req | peak KiB/req |"
    )
    print("|---" * (len(conc) + 4) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
