"""
CPU cost of one Redis throttle check, by URL and client, measured in one run.

    python bench/store_checks.py [--checks 20000] [--concurrency 64] [--rounds 3]

Starts its own `redis-server` listening on a plain port and a TLS port (throwaway certificates
made with `openssl`), then, on one event loop, runs `--checks` checks of `RedisStore.ahit`
with `--concurrency` in flight at a time, for each case:

- `redis://`, lean client (daf_drf's own)
- `rediss://`, lean client (TLS, certificate verified against the throwaway CA)
- `rediss://`, redis-py's asyncio client (an option only redis-py reads forces it)

The cases run interleaved, `--rounds` times; the median round's process CPU time per check is
reported (the server runs in another process), with the ratio to `redis://` on the lean
client. Stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from daf_drf.backends.redis import RedisStore
from tests.support.processes import free_port
from tests.support.redis import start_redis, stop_redis
from tests.tls import make_certificates


async def _run(url: str, checks: int, concurrency: int) -> tuple[float, str]:
    store = RedisStore(url, timeout=5.0, pool_size=concurrency)
    try:
        client = await store.async_client()
        await store.ahit("bench:warm", 10**9, 60, None)
        per_worker = checks // concurrency

        async def worker(n: int) -> None:
            for i in range(per_worker):
                await store.ahit(f"bench:{n}:{i % 8}", 10**9, 60, None)

        started = time.process_time()
        await asyncio.gather(*(worker(n) for n in range(concurrency)))
        cpu = time.process_time() - started
        return cpu / (per_worker * concurrency) * 1e6, type(client).__name__
    finally:
        await store.aclose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    certs = make_certificates(Path(tempfile.mkdtemp(prefix="daf_drf-bench-tls-")))
    plain, tls = free_port(), free_port()
    server = start_redis(
        plain,
        "--tls-port", str(tls),
        "--tls-cert-file", certs["server_cert"],
        "--tls-key-file", certs["server_key"],
        "--tls-ca-cert-file", certs["ca"],
        "--tls-auth-clients", "no",
    )  # fmt: skip
    ca = f"ssl_ca_certs={certs['ca']}"
    cases = {
        "redis:// lean": f"redis://127.0.0.1:{plain}/0",
        "rediss:// lean": f"rediss://127.0.0.1:{tls}/0?{ca}",
        "rediss:// redis-py": f"rediss://127.0.0.1:{tls}/0?{ca}&socket_keepalive=true",
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    clients: dict[str, str] = {}
    try:
        for _ in range(args.rounds):
            for name, url in cases.items():
                cost, clients[name] = asyncio.run(_run(url, args.checks, args.concurrency))
                results[name].append(cost)
    finally:
        stop_redis(server)

    import hiredis
    import redis

    print(
        f"Python {sys.version.split()[0]}, redis-py {redis.__version__}, hiredis "
        f"{hiredis.__version__}; {args.checks} checks, {args.concurrency} in flight, "
        f"median of {args.rounds} interleaved rounds; process CPU per check"
    )
    print()
    print("| case | client | µs CPU per check | rounds | vs `redis://` lean |")
    print("|---|---|---|---|---|")
    base = statistics.median(results["redis:// lean"])
    for name, costs in results.items():
        median = statistics.median(costs)
        rounds = ", ".join(f"{c:.1f}" for c in costs)
        print(f"| {name} | {clients[name]} | {median:.1f} | {rounds} | {median / base:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
