"""
CPU per request of Django's stock `ASGIHandler` against `daf_drf.asgi`, in process.

    python bench/asgi_inprocess.py [--requests 400] [--repeats 7] [--concurrency 1 64]

Each variant is an ASGI app called directly on uvloop (asyncio if uvloop is missing) with a
fake scope/receive/send: `receive` returns the body, then blocks until the response is
complete and answers `http.disconnect`, as uvicorn does. A minimal project: no middleware,
DEBUG off, no database access. CPU is `time.process_time()` (all threads, user + sys) per
request; repeats are interleaved across variants and the table shows min / median.

Variants:
- stock + Django `async def` view returning `JsonResponse`
- stock + daf_drf `hello` (`APIView`, no auth/permissions/throttles, `Response` as JSON)
- entry + daf_drf `hello`
- entry + Django `async def` view
- entry with a 16-thread pool + daf_drf `hello`; stock and pooled entry + DRF sync `hello`
- entry as configured by default, and opted out of its pool (`thread_pool_size=0`: a fresh
  thread per request), + DRF sync `hello`

The bar for issue 10: daf_drf `hello` through the entry uses <= 0.35x the CPU per request of
the same endpoint through the stock handler. This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django
from django.conf import settings

from tests.support.projects import STARTPROJECT_MIDDLEWARE

# `--default-middleware`: Django's `startproject` middleware instead of none. Each of them is
# a `MiddlewareMixin` whose sync hooks Django runs through `sync_to_async`, so every request
# binds a thread and the entry falls back to the stock hop for `request_finished`.
DEFAULT_MIDDLEWARE = STARTPROJECT_MIDDLEWARE
WITH_MIDDLEWARE = "--default-middleware" in sys.argv

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench",
    ALLOWED_HOSTS=["*"],
    USE_TZ=True,
    ROOT_URLCONF=__name__,
    MIDDLEWARE=DEFAULT_MIDDLEWARE if WITH_MIDDLEWARE else [],
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "django.contrib.sessions",
        "django.contrib.messages",
        "rest_framework",
    ],
    SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "DEFAULT_THROTTLE_CLASSES": [],
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

import asgiref  # noqa: E402
import rest_framework  # noqa: E402
from django.core.handlers.asgi import ASGIHandler as StockASGIHandler  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import views as drf_views  # noqa: E402
from rest_framework.response import Response  # noqa: E402

from daf_drf import views as daf_views  # noqa: E402
from daf_drf.asgi import ASGIHandler as EntryASGIHandler  # noqa: E402


async def django_hello(request: Any) -> JsonResponse:
    return JsonResponse({"hello": "world"})


class DafHello(daf_views.APIView):
    async def get(self, request: Any) -> Response:
        return Response({"hello": "world"})


class DrfHello(drf_views.APIView):
    def get(self, request: Any) -> Response:
        return Response({"hello": "world"})


urlpatterns = [
    path("django/hello", django_hello),
    path("daf/hello", DafHello.as_view()),
    path("drf/hello", DrfHello.as_view()),
]

VARIANTS: list[tuple[str, str, str]] = [
    ("stock + Django async view", "stock", "/django/hello"),
    ("stock + daf_drf hello", "stock", "/daf/hello"),
    ("entry + daf_drf hello", "entry", "/daf/hello"),
    ("entry + Django async view", "entry", "/django/hello"),
    ("entry (pool 16) + daf_drf hello", "pool", "/daf/hello"),
    ("stock + DRF sync hello", "stock", "/drf/hello"),
    ("entry (pool 16) + DRF sync hello", "pool", "/drf/hello"),
    ("entry (default) + DRF sync hello", "entry-sync", "/drf/hello"),
    ("entry (opt-out 0) + DRF sync hello", "opt-out", "/drf/hello"),
]


async def one_request(app: Any, url: str) -> int:
    done = asyncio.Event()
    status = 0
    first = True

    async def receive() -> dict[str, Any]:
        nonlocal first
        if first:
            first = False
            return {"type": "http.request", "body": b"", "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif not message.get("more_body"):
            done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1"), (b"accept", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await app(scope, receive, send)
    return status


async def measure(app: Any, url: str, requests: int, concurrency: int) -> float:
    """CPU µs per request for `requests` requests spread over `concurrency` coroutines."""
    per_worker = max(1, requests // concurrency)

    async def worker() -> None:
        for _ in range(per_worker):
            if await one_request(app, url) != 200:
                raise RuntimeError(f"{url} did not answer 200")

    start = time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return (time.process_time() - start) / (per_worker * concurrency) * 1e6


def make_apps() -> dict[str, Any]:
    return {
        "stock": StockASGIHandler(),
        "entry": EntryASGIHandler(),
        "pool": EntryASGIHandler(thread_pool_size=16),
        # Their own instances: "entry" must take only the inline path (checked in `run`).
        "entry-sync": EntryASGIHandler(),
        "opt-out": EntryASGIHandler(thread_pool_size=0),
    }


async def run(
    requests: int, repeats: int, concurrency: list[int]
) -> dict[tuple[str, int], list[float]]:
    apps = make_apps()
    results: dict[tuple[str, int], list[float]] = {}
    for _label, kind, url in VARIANTS:  # warm-up: imports, URL resolver, pools
        await measure(apps[kind], url, 50, 1)
    for _ in range(repeats):
        for c in concurrency:
            for label, kind, url in VARIANTS:
                results.setdefault((label, c), []).append(
                    await measure(apps[kind], url, requests, c)
                )
    entry = apps["entry"]
    if entry.path_counts.get("stock") and not WITH_MIDDLEWARE:
        raise RuntimeError(f"the entry took the stock path: {entry.path_counts}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--default-middleware", action="store_true", help=DEFAULT_MIDDLEWARE[0])
    args = parser.parse_args()
    try:
        import uvloop

        loop_name = f"uvloop {uvloop.__version__}"
        runner: Any = uvloop.run
    except ImportError:
        loop_name, runner = "asyncio", asyncio.run
    results = runner(run(args.requests, args.repeats, args.concurrency))

    print(
        f"Python {platform.python_version()}, Django {django.__version__}, "
        f"DRF {rest_framework.__version__}, asgiref {asgiref.__version__}, {loop_name}, "
        f"{platform.machine()} ({_cpu_name()}); {args.requests} requests x {args.repeats} "
        f"repeats; middleware: {'Django default' if WITH_MIDDLEWARE else 'none'}"
    )
    print()
    header = "| variant | " + " | ".join(f"c={c} CPU µs min / median" for c in args.concurrency)
    print(header + " |")
    print("|---|" + "---|" * len(args.concurrency))
    for label, _kind, _url in VARIANTS:
        cells = []
        for c in args.concurrency:
            values = results[(label, c)]
            cells.append(f"{min(values):.0f} / {statistics.median(values):.0f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    for c in args.concurrency:
        stock = min(results[("stock + daf_drf hello", c)])
        entry = min(results[("entry + daf_drf hello", c)])
        ratio = entry / stock
        verdict = "meets" if ratio <= 0.35 else "MISSES"
        print(
            f"c={c}: daf_drf hello, entry / stock = {ratio:.2f}x (mins) - {verdict} the 0.35x bar"
        )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


if __name__ == "__main__":
    main()
