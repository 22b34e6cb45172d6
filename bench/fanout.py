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
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.demo import demo_server  # noqa: E402

BAR_MS = 300.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--ms", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, demo_server(Path(tmp)) as base:
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
