"""
The realistic load run: a `startproject` + DRF quickstart project on PostgreSQL and Redis.

    make bench-realistic            # or, next to a PostgreSQL server:
    BENCH_PG_DSN=postgresql://user@127.0.0.1:5432/db python -m bench.realistic.run \\
        [--duration 5] [--rounds 3] [--cases list,hello] [--peers drf-gunicorn,daf+entry]

The same project serves every peer (bench/realistic/settings.py); each peer is one server
process (gunicorn: one gthread worker with 8 threads), started, warmed up, driven by wrk and
stopped by PID, in interleaved rounds, with bench/run.py's machinery. Results go to
`bench/results/<stamp>-realistic.md` and `.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench.realistic.seed import TOKEN
from bench.run import (
    PY,
    RESULTS,
    ROOT,
    UVICORN,
    Case,
    Result,
    free_port,
    machine,
    median_result,
    missing_tool,
    run_one,
    run_rounds,
    services,
    table,
    versions,
)

GUNICORN = [PY, "-m", "gunicorn", "bench.realistic.wsgi:application", "-k", "gthread"]
GUNICORN += ["--threads", "8", "-w", "1", "--log-level", "warning"]
GRANIAN = [PY, "-m", "granian", "--interface", "asgi", "--workers", "1", "--loop", "uvloop"]
GRANIAN += ["--log-level", "warning", "bench.realistic.asgi:application"]
ASGI = [*UVICORN, "bench.realistic.asgi:application"]
# django-bolt's own server (settings.BOLT_API); one process, one worker, as every other peer.
BOLT = [PY, "-m", "django", "runbolt", "--host", "127.0.0.1", "--processes", "1"]
BOLT += ["--workers", "1", "--no-admin"]

# peer: (command without port, URL prefix, environment)
INCUMBENT = {"BENCH_STACK": "drf", "BENCH_DB_MODE": "pool"}
MIGRATED = {"BENCH_STACK": "daf", "BENCH_DB_MODE": "pool"}
ENTRY = {"BENCH_STACK": "daf", "BENCH_DB_MODE": "persistent", "BENCH_ENTRY": "daf"}
BOLT_ENV = {"BENCH_STACK": "drf", "BENCH_DB_MODE": "persistent", "BENCH_BOLT": "1"}
PEERS: dict[str, tuple[list[str], str, dict[str, str]]] = {
    "drf-gunicorn": (GUNICORN, "drf", {"BENCH_STACK": "drf", "BENCH_DB_MODE": "persistent"}),
    "drf-uvicorn": (ASGI, "drf", INCUMBENT),
    "adrf": (ASGI, "adrf", INCUMBENT),
    "ninja": (ASGI, "ninja", INCUMBENT),
    "daf": (ASGI, "daf", MIGRATED),
    "daf+entry": (ASGI, "daf", ENTRY),
    "daf+entry/granian": (GRANIAN, "daf", ENTRY),
    # The mixed project's untouched sync DRF views, served the way daf_drf recommends.
    "drf+entry": (ASGI, "drf", ENTRY),
    "drf+entry/granian": (GRANIAN, "drf", ENTRY),
    # The same two without the token cache (DAF_DRF["TOKEN_CACHE_TIMEOUT"] = 0, DRF's
    # behaviour): how much of the entry's figures the cache accounts for.
    "daf+entry-nocache": (ASGI, "daf", {**ENTRY, "BENCH_TOKEN_CACHE": "0"}),
    "drf+entry-nocache": (ASGI, "drf", {**ENTRY, "BENCH_TOKEN_CACHE": "0"}),
    # The upper anchor: no Django middleware, no throttles, DRF's token (views_bolt.py).
    "bolt": (BOLT, "bolt", BOLT_ENV),
}
ALL = list(PEERS)
AUTH = {"Authorization": f"Token {TOKEN}"}
CASES = [
    Case("list", "articles/", ALL, headers=AUTH, reference="drf-gunicorn"),
    Case("retrieve", "articles/1/", ALL, headers=AUTH, reference="drf-gunicorn"),
    Case(
        "create",
        "articles/",
        ALL,
        headers=AUTH,
        script="realistic/create.lua",
        reference="drf-gunicorn",
    ),
    Case(
        "update",
        "articles/",
        ALL,
        headers=AUTH,
        script="realistic/update.lua",
        reference="drf-gunicorn",
    ),
    Case(
        "upstream",
        "upstream",
        ALL,
        connections=256,
        headers=AUTH,
        reference="drf-gunicorn",
        duration_factor=2,  # 256 connections: let the slow peers finish requests
    ),
    Case("hello", "hello", ALL, headers=AUTH, reference="drf-gunicorn"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 5))
    )
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", 3)))
    parser.add_argument("--cases", default=os.environ.get("BENCH_CASES", ""))
    parser.add_argument("--peers", default=os.environ.get("BENCH_PEERS", ""))
    parser.add_argument(
        "--baseline",
        default=os.environ.get("BENCH_BASELINE", ""),
        help="a checkout of an earlier daf_drf (e.g. `git worktree add /tmp/base <commit>`): "
        "adds its daf+entry and drf+entry as peers of the same run, for before/after ratios",
    )
    args = parser.parse_args()
    if args.baseline:
        base = str(Path(args.baseline).resolve())
        for peer in ("daf+entry", "drf+entry"):
            cmd, prefix, env = PEERS[peer]
            # uvicorn puts --app-dir first on sys.path: the baseline's daf_drf and bench.
            PEERS[f"{peer}@baseline"] = ([*cmd[:-1], "--app-dir", base, cmd[-1]], prefix, env)
        for case in CASES:
            case.peers = [*case.peers, "daf+entry@baseline", "drf+entry@baseline"]
    dsn = os.environ.get("BENCH_PG_DSN") or os.environ.get("DAF_DRF_TEST_POSTGRES_DSN")
    if not dsn:
        print(
            "bench: no PostgreSQL (set BENCH_PG_DSN, or run under scripts/with-postgres.sh)",
            file=sys.stderr,
        )
        return 2
    if missing_tool():
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="daf-bench-realistic-"))
    redis_port, upstream_port = free_port(), free_port()
    base_env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "bench.realistic.settings",
        "BENCH_PG_DSN": dsn,
        "BENCH_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "BENCH_UPSTREAM_URL": f"http://127.0.0.1:{upstream_port}",
    }
    servers = {peer: (cmd, prefix) for peer, (cmd, prefix, _env) in PEERS.items()}
    loadavg: list[float] = []

    def measure(case: Case, peer: str) -> Result:
        loadavg.append(os.getloadavg()[0])
        env = {**base_env, **PEERS[peer][2]}
        return run_one(case, peer, env, args.duration, servers)

    try:
        with services(redis_port, upstream_port, base_env, seed="bench.realistic.seed"):
            rounds = run_rounds(args, CASES, measure)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = [median_result(measured) for measured in rounds.values()]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    load = (
        f"1-min load average before each cell: min {min(loadavg):.1f}, "
        f"median {sorted(loadavg)[len(loadavg) // 2]:.1f}, max {max(loadavg):.1f}"
        if loadavg
        else "no cell ran"
    )
    meta = {
        "machine": machine(),
        "versions": versions(),
        "duration_s": args.duration,
        "rounds": args.rounds,
        "machine_load": load,
        "load": "wrk -t1, one server process per peer (gunicorn: 1 gthread worker, 8 threads); "
        "64 connections (upstream: 256); PostgreSQL and Redis on loopback",
    }
    out = RESULTS / f"{stamp}-realistic"
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                "meta": meta,
                "results": [asdict(r) for r in results],
                "rounds": [asdict(r) for measured in rounds.values() for r in measured],
            },
            indent=2,
        )
    )
    body = [
        f"# Realistic load run {stamp}",
        "",
        f"- machine: {meta['machine']}; {load}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}",
        f"- {meta['load']}; {args.duration:g} s per run after a 1 s warm-up; {args.rounds} "
        "interleaved round(s) per cell, the median round reported",
        "",
        table(results, CASES),
    ]
    out.with_suffix(".md").write_text("\n".join(body))
    print(f"\nwrote {out.relative_to(ROOT)}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
