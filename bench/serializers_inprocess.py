"""
Listing 1,000 rows and creating one row, through Django's ASGI handler, in-process.

    python -m bench.serializers_inprocess [--repeats 30] [--adrf-repeats 3]

The same `ListAPIView` (a six-field `ModelSerializer` with one foreign key, 1,000 rows, no
pagination) and the same validated `CreateAPIView` are served by DRF (sync view: Django runs
it in a thread), daf_drf and adrf. Each request goes through `django.core.handlers.asgi.
ASGIHandler` with a fake scope/receive/send on one event loop, one request at a time, the
implementations interleaved round-robin so that machine drift hits them alike. The table
gives, per request over the repeats, the minimum and median wall time and the minimum and
median CPU time of the whole process (all threads: `time.process_time`), with the ratios of
the minimums to DRF's. On a shared machine CPU time is the steadier of the two: wall time
also counts the time other processes held the cores.

adrf appears twice: with a DRF serializer (one hop for `.data`) and with adrf's own
`ModelSerializer` (its documented way; `.adata` hops per field). This is a measurement
script, not a test: it asserts only that every response has the expected status.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import django
from django.conf import settings

DB_DIR = tempfile.mkdtemp(prefix="daf_drf_bench_")

settings.configure(
    DEBUG=False,
    SECRET_KEY="bench",
    ALLOWED_HOSTS=["*"],
    USE_TZ=True,
    ROOT_URLCONF=__name__,
    DEFAULT_AUTO_FIELD="django.db.models.AutoField",
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "daf_drf",
        "tests",
    ],
    MIDDLEWARE=[],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.path.join(DB_DIR, "bench.sqlite3"),
        }
    },
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from adrf import generics as adrf_generics  # noqa: E402
from adrf import serializers as adrf_serializers  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework import generics as drf_generics  # noqa: E402
from rest_framework import serializers  # noqa: E402

from daf_drf import generics as daf_generics  # noqa: E402
from tests.models import Author, Book  # noqa: E402

FIELDS = ["id", "title", "isbn", "price", "published", "author"]


class BookSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Book
        fields = FIELDS


class AdrfBookSerializer(adrf_serializers.ModelSerializer):
    class Meta:
        model = Book
        fields = FIELDS


def _view(base: type, serializer: type) -> Any:
    attrs = {
        "queryset": Book.objects.all(),
        "serializer_class": serializer,
        "pagination_class": None,
    }
    return type(f"Bench{base.__name__}", (base,), attrs).as_view()


LIST_VIEWS = [
    ("DRF sync ListAPIView", "/drf/list/"),
    ("daf_drf ListAPIView", "/daf/list/"),
    ("adrf ListAPIView + DRF serializer", "/adrf/list/"),
    ("adrf ListAPIView + adrf serializer", "/adrf-s/list/"),
]
CREATE_VIEWS = [
    ("DRF sync CreateAPIView", "/drf/create/"),
    ("daf_drf CreateAPIView", "/daf/create/"),
    ("adrf CreateAPIView + adrf serializer", "/adrf-s/create/"),
]

urlpatterns = [
    path("drf/list/", _view(drf_generics.ListAPIView, BookSerializer)),
    path("daf/list/", _view(daf_generics.ListAPIView, BookSerializer)),
    path("adrf/list/", _view(adrf_generics.ListAPIView, BookSerializer)),
    path("adrf-s/list/", _view(adrf_generics.ListAPIView, AdrfBookSerializer)),
    path("drf/create/", _view(drf_generics.CreateAPIView, BookSerializer)),
    path("daf/create/", _view(daf_generics.CreateAPIView, BookSerializer)),
    path("adrf-s/create/", _view(adrf_generics.CreateAPIView, AdrfBookSerializer)),
]


def seed(rows: int) -> None:
    call_command("migrate", run_syncdb=True, verbosity=0)
    authors = [Author.objects.create(name=f"Author {i}") for i in range(10)]
    Book.objects.bulk_create(
        Book(
            title=f"Book {i}",
            isbn=f"{i:013d}",
            price=10 + i % 7,
            published=f"2020-01-{1 + i % 28:02d}",
            author=authors[i % 10],
        )
        for i in range(rows)
    )


async def request(app: ASGIHandler, method: str, url: str, body: bytes = b"") -> tuple[int, bytes]:
    headers = [(b"host", b"testserver"), (b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": url,
        "raw_path": url.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "headers": headers,
    }
    incoming = [{"type": "http.request", "body": body, "more_body": False}]
    done = asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop(0)
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


Timings = dict[str, tuple[list[float], list[float]]]  # name -> (wall, cpu) seconds


async def measure(
    views: list[tuple[str, str]],
    method: str,
    expected: int,
    body: Callable[[], bytes],
    repeats: Callable[[str], int],
) -> Timings:
    app = ASGIHandler()
    timings: Timings = {name: ([], []) for name, _ in views}
    for name, url in views:  # warm up every path once (imports, URL resolution, caches)
        status, content = await request(app, method, url, body())
        if status != expected:
            raise SystemExit(f"{name}: expected {expected}, got {status}: {content[:300]!r}")
    for round_ in range(max(repeats(name) for name, _ in views)):
        for name, url in views:
            if round_ >= repeats(name):
                continue
            payload = body()
            start, cpu = time.perf_counter(), time.process_time()
            status, _ = await request(app, method, url, payload)
            timings[name][1].append(time.process_time() - cpu)
            timings[name][0].append(time.perf_counter() - start)
            if status != expected:
                raise SystemExit(f"{name}: expected {expected}, got {status}")
    return timings


def table(title: str, timings: Timings) -> str:
    wall0, cpu0 = (min(values) for values in next(iter(timings.values())))
    lines = [
        f"{title:<38} {'wall min':>9} {'median':>8} {'x DRF':>7} {'CPU min':>9} {'median':>8} "
        f"{'x DRF':>7} {'n':>3}"
    ]
    for name, (wall, cpu) in timings.items():
        lines.append(
            f"{name:<38} {min(wall) * 1e3:>7.2f}ms {statistics.median(wall) * 1e3:>6.2f}ms "
            f"{min(wall) / wall0:>6.2f}x {min(cpu) * 1e3:>7.2f}ms "
            f"{statistics.median(cpu) * 1e3:>6.2f}ms {min(cpu) / cpu0:>6.2f}x {len(wall):>3}"
        )
    return "\n".join(lines)


def versions() -> str:
    from importlib.metadata import version

    names = ["Django", "djangorestframework", "adrf", "asgiref", "daf_drf"]
    found = []
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except Exception:  # not installed as a distribution (daf_drf from the tree)
            found.append(f"{name} (source tree)")
    return (
        f"Python {platform.python_version()} on {platform.platform()}, "
        f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()})\n" + ", ".join(found)
    )


async def main(args: argparse.Namespace) -> None:
    counter = itertools.count()

    def new_book() -> bytes:
        n = next(counter)
        return json.dumps(
            {
                "title": f"New {n}",
                "isbn": f"N{n:012d}",
                "price": "12.50",
                "published": "2021-05-04",
                "author": 1 + n % 10,
            }
        ).encode()

    def repeats(name: str) -> int:
        return args.adrf_repeats if "adrf serializer" in name else args.repeats

    listed = await measure(LIST_VIEWS, "GET", 200, lambda: b"", repeats)
    created = await measure(CREATE_VIEWS, "POST", 201, new_book, repeats)
    print(versions())
    print()
    print(table(f"GET {args.rows} rows, no pagination", listed))
    print()
    print(table("POST one row, validated", created))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--adrf-repeats", type=int, default=3)
    arguments = parser.parse_args()
    seed(arguments.rows)
    asyncio.run(main(arguments))
    sys.exit(0)
