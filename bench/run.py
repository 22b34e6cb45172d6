"""
Run the load benchmarks: every peer, every case, one machine, one run.

    make bench                      # or: python -m bench.run [--duration 5] [--cases hello,io64]

Starts its own redis-server, the slow upstream of `fanout` and one server per (case, peer) on
127.0.0.1, drives each with wrk for a bounded time, samples the server's CPU and thread count
from /proc, stops every process it started by PID, and writes `bench/results/<stamp>.md` and
`.json` with req/s, p50/p99 latency, server CPU per request, max threads, and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from tests.support.processes import free_port
from tests.support.processes import start as start_process
from tests.support.processes import stop as stop_process
from tests.support.redis import start_redis, stop_redis

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PY = sys.executable
TOKEN = "b" * 40
CLK_TCK = os.sysconf("SC_CLK_TCK")

UVICORN = [
    PY,
    "-m",
    "uvicorn",
    "--host",
    "127.0.0.1",
    "--workers",
    "1",
    "--loop",
    "uvloop",
    "--http",
    "httptools",
    "--no-access-log",
    "--log-level",
    "warning",
]
SERVERS: dict[str, tuple[list[str], str]] = {
    # peer: (command without port, URL prefix)
    "bare": ([*UVICORN, "bench.project.bare:app"], "bare"),
    "django": ([*UVICORN, "bench.project.asgi:application"], "django"),
    "django+entry": ([*UVICORN, "bench.project.asgi:fast_application"], "django"),
    "drf-gunicorn": (
        [
            PY,
            "-m",
            "gunicorn",
            "bench.project.wsgi:application",
            "-k",
            "gthread",
            "--threads",
            "8",
            "-w",
            "1",
            "--log-level",
            "warning",
        ],
        "drf",
    ),
    "drf-uvicorn": ([*UVICORN, "bench.project.asgi:application"], "drf"),
    "adrf": ([*UVICORN, "bench.project.asgi:application"], "adrf"),
    "ninja": ([*UVICORN, "bench.project.asgi:application"], "ninja"),
    "daf": ([*UVICORN, "bench.project.asgi:application"], "daf"),
    "daf+entry": ([*UVICORN, "bench.project.asgi:fast_application"], "daf"),
    "daf+entry/granian": (
        [
            PY,
            "-m",
            "granian",
            "--interface",
            "asgi",
            "--workers",
            "1",
            "--loop",
            "uvloop",
            "--log-level",
            "warning",
            "bench.project.asgi:fast_application",
        ],
        "daf",
    ),
}


@dataclass
class Case:
    name: str
    route: str
    peers: list[str]
    connections: int = 64
    headers: dict[str, str] = field(default_factory=dict)
    script: str | None = None  # a wrk Lua script (POST bodies)
    reference: str = "django"  # the peer ratios are taken against, besides DRF and adrf
    duration_factor: float = 1.0  # slow cases run longer, so that slow peers finish requests


AUTH = {"Authorization": f"Token {TOKEN}", "X-Bench-Client": "wrk"}
# daf_drf through its entry on granian too: every case the bars name reports it.
ASYNC_PEERS = [
    "django",
    "drf-gunicorn",
    "drf-uvicorn",
    "adrf",
    "ninja",
    "daf",
    "daf+entry",
    "daf+entry/granian",
]
CASES = [
    Case("hello", "hello", ["bare", *ASYNC_PEERS, "django+entry"]),
    Case("io64", "io", ASYNC_PEERS),
    Case("io256", "io", ASYNC_PEERS, connections=256),
    Case(
        "auth+perm",
        "authperm",
        ["drf-gunicorn", "drf-uvicorn", "adrf", "daf", "daf+entry"],
        headers=AUTH,
        reference="drf-gunicorn",
    ),
    Case(
        "throttled",
        "throttled",
        ["drf-gunicorn", "adrf", "daf", "daf+entry", "daf+entry/granian"],
        reference="daf-unthrottled",
    ),
    Case("unthrottled", "unthrottled", ["daf", "daf+entry", "daf+entry/granian"]),
    Case(
        "list1000",
        "list1000",
        ["drf-gunicorn", "drf-uvicorn", "adrf", "daf", "daf+entry", "daf+entry/granian"],
        connections=4,
        reference="drf-gunicorn",
        duration_factor=3,
    ),
    Case(
        "create",
        "create",
        ["drf-gunicorn", "adrf", "daf", "daf+entry"],
        connections=16,
        script="create.lua",
        reference="drf-gunicorn",
    ),
    Case("fanout", "fanout", ["django", "adrf", "ninja", "daf", "daf+entry"]),
]


@dataclass
class Result:
    case: str
    peer: str
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_us_per_req: float = 0.0
    max_threads: int = 0
    errors: int = 0
    note: str = ""


def tree(pid: int) -> list[int]:
    """The pid and its descendants (gunicorn runs its worker as a child)."""
    pids, frontier = [pid], [pid]
    while frontier:
        parent = frontier.pop()
        children = Path(f"/proc/{parent}/task/{parent}/children")
        if children.exists():
            kids = [int(k) for k in children.read_text().split()]
            pids += kids
            frontier += kids
    return pids


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / CLK_TCK


def threads(pids: list[int]) -> int:
    count = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^Threads:\s+(\d+)", status, re.M)
        count += int(match.group(1)) if match else 0
    return count


def start(cmd: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    if "gunicorn" in cmd:
        full = [*cmd, "-b", f"127.0.0.1:{port}"]
    elif "granian" in cmd:
        full = [*cmd[:-1], "--host", "127.0.0.1", "--port", str(port), cmd[-1]]
    else:
        full = [*cmd, "--port", str(port)]
    return start_process(
        full,
        port,
        timeout=20,
        group=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    stop_process(proc, group=True)


@contextmanager
def services(
    redis_port: int, upstream_port: int | None, env: dict[str, str], seed: str = ""
) -> Iterator[None]:
    """
    The throwaway redis-server (persistence off) every benchmark talks to and, with
    `upstream_port`, the slow upstream (`bench.project.bare:upstream`); both listening when
    the block starts, both stopped by PID when it ends. `seed` names a module run with
    `python -m` (and `env`) once they listen, to fill the project's database.
    """
    with ExitStack() as stack:
        stack.callback(stop_redis, start_redis(redis_port))
        if upstream_port is not None:
            upstream = start([*UVICORN, "bench.project.bare:upstream"], upstream_port, env)
            stack.callback(stop, upstream)
        if seed:
            run_env = {**env, "PYTHONPATH": str(ROOT)}
            subprocess.run([PY, "-m", seed], cwd=ROOT, env=run_env, check=True)
        yield


def missing_tool() -> bool:
    """True, with a message, when `wrk`, `redis-server` or `curl` is not installed."""
    for tool in ("wrk", "redis-server", "curl"):
        if shutil.which(tool) is None:
            print(f"bench: `{tool}` is missing (Debian package: {tool}).", file=sys.stderr)
            return True
    return False


def run_rounds(
    args: argparse.Namespace, cases: list[Case], measure: Callable[[Case, str], Result]
) -> dict[tuple[str, str], list[Result]]:
    """
    `measure` every (case, peer) cell that `args.cases` and `args.peers` select (all when
    empty), `args.rounds` times; a peer that cannot start is reported, not fatal. Rounds are
    interleaved (every cell once, then again) so that a noisy minute on a shared machine hits
    one measurement of a cell, not all of them.
    """
    wanted = set(filter(None, args.cases.split(",")))
    wanted_peers = set(filter(None, args.peers.split(",")))
    rounds: dict[tuple[str, str], list[Result]] = {}
    for round_no in range(1, args.rounds + 1):
        for case in cases:
            if wanted and case.name not in wanted:
                continue
            for peer in case.peers:
                if wanted_peers and peer not in wanted_peers:
                    continue
                try:
                    res = measure(case, peer)
                except Exception as exc:
                    res = Result(case.name, peer, note=f"failed: {exc}"[:120])
                rounds.setdefault((case.name, peer), []).append(res)
                print(
                    f"[{round_no}/{args.rounds}] {case.name:12} {peer:18} "
                    f"{res.rps:9.0f} req/s  p99 {res.p99_ms:8.2f} ms  "
                    f"cpu {res.cpu_us_per_req:8.1f} µs/req  threads {res.max_threads:4}  "
                    f"errors {res.errors} {res.note}",
                    flush=True,
                )
    return rounds


def wrk(url: str, case: Case, duration: float, connections: int | None = None) -> str:
    cmd = [
        "wrk",
        "-t1",
        f"-c{connections or case.connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
    ]
    for key, value in case.headers.items():
        cmd += ["-H", f"{key}: {value}"]
    if case.script:
        cmd += ["-s", str(ROOT / "bench" / case.script)]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 60)
    return out.stdout


def parse_wrk(text: str, result: Result) -> None:
    def ms(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    result.rps = float(rps.group(1)) if rps else 0.0
    for label, attr in (("50%", "p50_ms"), ("99%", "p99_ms")):
        found = re.search(rf"^\s+{label}\s+(\S+)", text, re.M)
        if found:
            setattr(result, attr, round(ms(found.group(1)), 2))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    sockerr = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    result.errors = int(non2xx.group(1)) if non2xx else 0
    if sockerr:
        result.errors += sum(int(x) for x in sockerr.groups())


def run_one(
    case: Case,
    peer: str,
    env: dict[str, str],
    duration: float,
    servers: dict[str, tuple[list[str], str]] | None = None,
) -> Result:
    result = Result(case.name, peer)
    cmd, prefix = (servers or SERVERS)[peer]
    port = free_port()
    url = f"http://127.0.0.1:{port}/{prefix}/{case.route}"
    if peer == "bare":
        url = f"http://127.0.0.1:{port}/"
    proc = start(cmd, port, env)
    try:
        check = subprocess.run(
            [
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                *[arg for k, v in case.headers.items() for arg in ("-H", f"{k}: {v}")],
                *(["-X", "POST"] if case.script else []),
                url,
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if not case.script and check.stdout != "200":
            result.note = f"probe answered {check.stdout}"
            return result
        wrk(url, case, min(1.0, duration))  # warm-up
        pids = tree(proc.pid)
        max_threads = threads(pids)
        done = threading.Event()

        def sample() -> None:
            nonlocal max_threads
            while not done.wait(0.05):
                max_threads = max(max_threads, threads(pids))

        sampler = threading.Thread(target=sample, daemon=True)
        cpu_before = cpu_seconds(pids)
        sampler.start()
        text = wrk(url, case, duration * case.duration_factor)
        done.set()
        sampler.join()
        cpu = cpu_seconds(pids) - cpu_before
        parse_wrk(text, result)
        total = result.rps * duration * case.duration_factor
        result.cpu_us_per_req = round(cpu / total * 1e6, 1) if total else 0.0
        result.max_threads = max_threads
        return result
    finally:
        stop(proc)


def median_result(measured: list[Result]) -> Result:
    """The round with the median req/s (the lower middle one of an even count)."""
    ordered = sorted(measured, key=lambda r: r.rps)
    chosen = ordered[(len(ordered) - 1) // 2]
    if len(measured) > 1:
        spread = "/".join(f"{r.rps:.0f}" for r in measured)
        note = f"rounds {spread}" + (f"; {chosen.note}" if chosen.note else "")
        chosen = replace(chosen, note=note)
    return chosen


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for name in (
        "django",
        "djangorestframework",
        "adrf",
        "django-ninja",
        "uvicorn",
        "gunicorn",
        "granian",
        "django-bolt",
        "asgiref",
        "redis",
        "uvloop",
        "daf_drf",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    redis_v = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    out["wrk"] = wrk_v.split(" Copyright")[0].strip()
    out["redis-server"] = redis_v.stdout.split()[2] if redis_v.stdout else "?"
    return out


def machine() -> str:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = Path("/proc/meminfo").read_text().splitlines()[0].split()[1]
    return f"{os.cpu_count()} cores ({cpu}), {int(mem) // 1024 // 1024} GiB, {platform.platform()}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def table(results: list[Result], cases: list[Case] | None = None) -> str:
    by_case: dict[str, dict[str, Result]] = {}
    for res in results:
        by_case.setdefault(res.case, {})[res.peer] = res
    case_ref = {c.name: c.reference for c in cases or CASES}
    lines = []
    for case_name, peers in by_case.items():
        ref_name = case_ref.get(case_name, "django")
        if ref_name == "daf-unthrottled":
            ref_rows = by_case.get("unthrottled", {})
        else:
            ref_rows = {p: peers.get(ref_name) for p in peers}  # type: ignore[misc]
        lines += [
            f"### {case_name}",
            "",
            "| peer | req/s | p50 ms | p99 ms | CPU µs/req | max threads | errors | "
            f"vs {ref_name} | vs DRF (gunicorn) | vs adrf | note |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        drf = peers.get("drf-gunicorn")
        adrf = peers.get("adrf")
        for peer, res in peers.items():
            ref = ref_rows.get(peer) if ref_name == "daf-unthrottled" else peers.get(ref_name)
            lines.append(
                f"| {peer} | {res.rps:.0f} | {res.p50_ms} | {res.p99_ms} | {res.cpu_us_per_req} | "
                f"{res.max_threads} | {res.errors} | {ratio(res.rps, ref.rps if ref else 0)} | "
                f"{ratio(res.rps, drf.rps if drf else 0)} | "
                f"{ratio(res.rps, adrf.rps if adrf else 0)} | {res.note} |"
            )
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=float(os.environ.get("BENCH_DURATION", 5))
    )
    parser.add_argument("--cases", default=os.environ.get("BENCH_CASES", ""))
    parser.add_argument("--peers", default=os.environ.get("BENCH_PEERS", ""))
    parser.add_argument(
        "--rounds",
        type=int,
        default=int(os.environ.get("BENCH_ROUNDS", 3)),
        help="measure every cell this many times, rounds interleaved; report the median",
    )
    args = parser.parse_args()
    if missing_tool():
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="daf-bench-"))
    redis_port, upstream_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "bench.project.settings",
        "BENCH_DB": str(workdir / "bench.sqlite3"),
        "BENCH_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "BENCH_UPSTREAM_URL": f"http://127.0.0.1:{upstream_port}",
    }
    try:
        with services(redis_port, upstream_port, env, seed="bench.project.management_seed"):
            rounds = run_rounds(
                args, CASES, lambda case, peer: run_one(case, peer, env, args.duration)
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results = [median_result(measured) for measured in rounds.values()]
    stamp = time.strftime("%Y%m%d-%H%M%S")
    meta = {
        "machine": machine(),
        "versions": versions(),
        "duration_s": args.duration,
        "rounds": args.rounds,
        "load": "wrk -t1, one server worker per peer unless noted (gunicorn gthread 8 threads)",
    }
    (RESULTS / f"{stamp}.json").write_text(
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
        f"# Load run {stamp}",
        "",
        f"- machine: {meta['machine']}",
        f"- versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())}",
        f"- {meta['load']}; {args.duration:g} s per run after a 1 s warm-up; "
        f"{args.rounds} interleaved round(s) per cell, the median round reported "
        "(every round's req/s in the note, all rounds in the JSON)",
        "",
        table(results),
    ]
    (RESULTS / f"{stamp}.md").write_text("\n".join(body))
    print(f"\nwrote bench/results/{stamp}.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
