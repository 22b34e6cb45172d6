"""
The demo's fan-out endpoint: 5 upstream calls of 200 ms each, made concurrently with
`asyncio.gather` over httpx, must answer in under 300 ms (sequentially they take 1 s).

    .venv/bin/python bench/fanout.py [--requests 20] [--calls 5] [--ms 200]

Starts the demo exactly as `make demo` does (`scripts/demo.sh`: migrate, seed, uvicorn on
127.0.0.1) on a free port with a throwaway SQLite file, sends one warm-up request, then
`--requests` requests one after another, and reports the time each took as seen by the client
and as measured inside the endpoint. Stops the server by PID. Exits 1 if the median
client-side time is not under the bar.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.processes import free_port, stop  # noqa: E402

BAR_MS = 300.0


def wait_until_up(base: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the demo exited before answering")
        try:
            httpx.get(f"{base}/upstream/slow?ms=0", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"the demo did not answer within {timeout:.0f} s")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--ms", type=int, default=200)
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DAF_DRF_DEMO_DB": str(Path(tmp) / "demo.sqlite3"),
        }
        process = subprocess.Popen(
            ["bash", "scripts/demo.sh", sys.executable],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_until_up(base, process)
            client_ms: list[float] = []
            server_ms: list[float] = []
            params = {"calls": args.calls, "ms": args.ms}
            with httpx.Client(base_url=base, timeout=30) as client:
                client.get("/api/fanout/", params=params).raise_for_status()  # warm-up
                for _ in range(args.requests):
                    started = time.perf_counter()
                    response = client.get("/api/fanout/", params=params)
                    client_ms.append((time.perf_counter() - started) * 1000)
                    response.raise_for_status()
                    server_ms.append(float(response.json()["elapsed_ms"]))
        finally:
            stop(process, timeout=15)

    median = statistics.median(client_ms)
    print(
        f"fan-out: {args.calls} upstream calls of {args.ms} ms, {args.requests} requests "
        f"(sequential calls would take {args.calls * args.ms} ms)"
    )
    print(f"{'':<22}{'min':>8}{'median':>9}{'p95':>8}{'max':>8}  (ms)")
    for label, values in (("client round trip", client_ms), ("inside the endpoint", server_ms)):
        print(
            f"{label:<22}{min(values):>8.1f}{statistics.median(values):>9.1f}"
            f"{percentile(values, 0.95):>8.1f}{max(values):>8.1f}"
        )
    verdict = "PASS" if median < BAR_MS else "FAIL"
    print(f"bar: median client round trip < {BAR_MS:.0f} ms: {verdict} ({median:.1f} ms)")
    return 0 if median < BAR_MS else 1


if __name__ == "__main__":
    raise SystemExit(main())
