"""
The summary tables of docs/performance.md from a realistic run's JSON.

    python -m bench.realistic.summary bench/results/<stamp>-realistic.json

Prints req/s per case and peer (the median round), CPU µs per request, and the ratios the
bars of issue 18 name: daf_drf through its entry against DRF on gunicorn and against adrf,
and the untouched sync DRF views through the entry against gunicorn.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

PEERS = [
    "drf-gunicorn",
    "drf-uvicorn",
    "adrf",
    "ninja",
    "daf",
    "daf+entry",
    "daf+entry/granian",
    "drf+entry",
    "daf+entry@baseline",
    "drf+entry@baseline",
]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def main(path: str) -> int:
    data: dict[str, Any] = json.loads(Path(path).read_text())
    cells: dict[str, dict[str, Any]] = {}
    for row in data["results"]:
        cells.setdefault(row["case"], {})[row["peer"]] = row
    peers = [p for p in PEERS if any(p in c for c in cells.values())]
    print("| case | " + " | ".join(peers) + " |")
    print("|---" * (len(peers) + 1) + "|")
    for case, row in cells.items():
        values = [f"{row[p]['rps']:.0f}" if p in row and row[p]["rps"] else "-" for p in peers]
        print(f"| {case} | " + " | ".join(values) + " |")
    print()
    print("CPU µs per request (server process, all threads):")
    print()
    print("| case | " + " | ".join(peers) + " |")
    print("|---" * (len(peers) + 1) + "|")
    for case, row in cells.items():
        values = [f"{row[p]['cpu_us_per_req']:.0f}" if p in row else "-" for p in peers]
        print(f"| {case} | " + " | ".join(values) + " |")
    print()
    print(
        "| case | daf+entry / DRF gunicorn | p99 ms (daf+entry / gunicorn) | daf+entry / adrf "
        "| best daf_drf entry / gunicorn | drf+entry / gunicorn | p99 ms (drf+entry / gunicorn) "
        "| daf+entry / its baseline | drf+entry / its baseline |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for case, row in cells.items():

        def rps(peer: str, row: dict[str, Any] = row) -> float:
            return float(row[peer]["rps"]) if peer in row else 0.0

        def p99(peer: str, row: dict[str, Any] = row) -> str:
            return f"{row[peer]['p99_ms']:.0f}" if peer in row else "-"

        best = max(rps("daf+entry"), rps("daf+entry/granian"))
        print(
            f"| {case} | {ratio(rps('daf+entry'), rps('drf-gunicorn'))} | "
            f"{p99('daf+entry')} / {p99('drf-gunicorn')} | "
            f"{ratio(rps('daf+entry'), rps('adrf'))} | {ratio(best, rps('drf-gunicorn'))} | "
            f"{ratio(rps('drf+entry'), rps('drf-gunicorn'))} | "
            f"{p99('drf+entry')} / {p99('drf-gunicorn')} | "
            f"{ratio(rps('daf+entry'), rps('daf+entry@baseline'))} | "
            f"{ratio(rps('drf+entry'), rps('drf+entry@baseline'))} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
