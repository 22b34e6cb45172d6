"""
In-process cost of one request on the realistic stack: CPU µs, thread hops and which code hops.

    BENCH_PG_DSN=postgresql://user@127.0.0.1:5432/db python -m bench.realistic.microbench \\
        [--requests 400] [--repeats 5] [--only retrieve]

bench/microbench.py's method (an ASGI app called directly on uvloop, `time.process_time`
over all threads) on bench/realistic's project, migrated settings (`BENCH_STACK=daf`),
`CONN_MAX_AGE=60`, a token-authenticated client. Each path runs through Django's stock
handler and through `daf_drf.asgi` with its thread pool. Besides CPU it reports
`sync_to_async` calls per request and the functions they ran, so a change can be checked
hop by hop. Needs a PostgreSQL server and starts its own redis-server.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from collections import Counter
from typing import Any

from bench.microbench import measure, scope_for
from bench.run import free_port, services

PATHS = [
    ("daf_drf hello", "/daf/hello"),
    ("daf_drf retrieve", "/daf/articles/1/"),
    ("daf_drf list (20)", "/daf/articles/"),
    ("daf_drf upstream", "/daf/upstream"),
    ("DRF sync hello", "/drf/hello"),
    ("DRF sync retrieve", "/drf/articles/1/"),
    ("DRF sync list (20)", "/drf/articles/"),
]


def hop_names(app: Any, scope: dict[str, Any], loop: Any, requests: int) -> tuple[float, str]:
    """sync_to_async calls per request and the functions they ran (most frequent first)."""
    from tests.support.hops import count_hops

    with count_hops() as hops:
        loop.run_until_complete(measure(app, scope, requests, 1))
    names = Counter(hops)
    total = sum(names.values()) / requests
    detail = ", ".join(f"{name} {count / requests:g}" for name, count in names.most_common())
    return total, detail or "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=5)
    # c>1 through the stock handler with CONN_MAX_AGE=60 opens a connection per request thread.
    parser.add_argument("--concurrency", default="1")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    dsn = os.environ.get("BENCH_PG_DSN") or os.environ.get("DAF_DRF_TEST_POSTGRES_DSN")
    if not dsn:
        print("bench: no PostgreSQL (set BENCH_PG_DSN)", file=sys.stderr)
        return 2
    redis_port = free_port()
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.realistic.settings",
            "BENCH_PG_DSN": dsn,
            "BENCH_STACK": "daf",
            "BENCH_DB_MODE": "persistent",
            "BENCH_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        }
    )
    upstream_port = free_port()
    os.environ["BENCH_UPSTREAM_URL"] = f"http://127.0.0.1:{upstream_port}"
    with services(redis_port, upstream_port, dict(os.environ), seed="bench.realistic.seed"):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import uvloop
    from django.core.asgi import get_asgi_application

    from bench.realistic.seed import TOKEN
    from daf_drf.asgi import get_asgi_application as get_entry

    entries = {"stock": get_asgi_application(), "daf_drf.asgi": get_entry()}
    auth = [(b"authorization", f"Token {TOKEN}".encode())]
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    conc = [int(c) for c in args.concurrency.split(",")]
    print(
        "| path | entry | "
        + " | ".join(f"CPU µs/req c={c} (min / median)" for c in conc)
        + " | hops/req | what hops (per request) |"
    )
    print("|---" * (len(conc) + 4) + "|")
    for label, path in PATHS:
        if args.only not in label:
            continue
        scope = scope_for(path, auth)
        for entry_name, app in entries.items():
            loop.run_until_complete(measure(app, scope, 50, 1))  # warm-up
            cells = []
            for c in conc:
                samples = [
                    loop.run_until_complete(measure(app, scope, args.requests, c))
                    for _ in range(args.repeats)
                ]
                cells.append(f"{min(samples):.0f} / {statistics.median(samples):.0f}")
            hops, detail = hop_names(app, scope, loop, 50)
            print(
                f"| {label} | {entry_name} | {' | '.join(cells)} | {hops:.2f} | {detail} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
