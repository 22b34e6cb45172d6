"""
Database-connection probe for `tests/test_asgi.py`, run in a subprocess.

Each run configures Django with a file SQLite database (`PROBE_DB`) and `CONN_MAX_AGE` from
`PROBE_OPTIONS`, serves requests through the chosen handler (`stock`: Django's
`ASGIHandler`; `entry`: daf_drf's, as configured by default; `pool`: daf_drf's with a
one-thread pool; `opt-out`: daf_drf's with `thread_pool_size=0`) on an event
loop in the main thread, and prints one JSON line: which thread opened the connection, which
threads closed it (each wrapper's `close` is wrapped to record that, then calls Django's), and
whether it was still open after the request.

    python tests/_asgi_db_probe.py one_request|two_requests|end_of_request
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from typing import Any

import django
from django.conf import settings

OPTIONS: dict[str, Any] = json.loads(os.environ.get("PROBE_OPTIONS", "{}"))

settings.configure(
    DEBUG=False,
    SECRET_KEY="probe",
    ALLOWED_HOSTS=["*"],
    USE_TZ=True,
    ROOT_URLCONF="__main__",
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ["PROBE_DB"],
            "CONN_MAX_AGE": OPTIONS.get("conn_max_age", 0),
        }
    },
)
django.setup()

from asgiref.sync import sync_to_async  # noqa: E402
from django.db import connections  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

STATE: dict[str, Any] = {
    "opened_on": [],
    "closed_on": [],
    "created": 0,
    "wrappers": [],
    "events": [],
}


def _on_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    STATE["created"] += 1
    STATE["opened_on"].append(threading.current_thread().name)
    if connection not in STATE["wrappers"]:
        STATE["wrappers"].append(connection)
        original = connection.close

        def close() -> None:
            if connection.connection is not None:
                STATE["closed_on"].append(threading.current_thread().name)
                STATE["events"].append("closed")
            original()

        connection.close = close


connection_created.connect(_on_created)


def _query() -> dict[str, Any]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"thread": threading.current_thread().name, "created": STATE["created"]}


async def query(request: Any) -> JsonResponse:
    return JsonResponse(await sync_to_async(_query)())


def _finish_work() -> dict[str, Any]:
    # A request's sync work that leaves its thread's connection in the state `during` names;
    # `close_old_connections` at request end then has something to do, or nothing.
    conn = connections["default"]
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")
    conn.health_check_done = True  # as after a health check (CONN_HEALTH_CHECKS)
    during = OPTIONS.get("during", "none")
    if during == "expire":
        conn.close_at = 0  # outlived CONN_MAX_AGE while the request ran
    elif during == "errors":
        conn.errors_occurred = True  # a database error since the last commit
    elif during == "autocommit":
        conn.set_autocommit(False)  # left off by the view
    elif during == "own-check" and "close_if_unusable_or_obsolete" not in vars(conn):
        # A backend's (or a library's) own end-of-request check: it must run, on this thread.
        djangos = conn.close_if_unusable_or_obsolete

        def own_check() -> None:
            STATE["events"].append(f"own check on {threading.current_thread().name}")
            djangos()

        conn.close_if_unusable_or_obsolete = own_check
    return {"thread": threading.current_thread().name, "created": STATE["created"]}


def _background() -> None:
    time.sleep(0.3)
    # It leaves the connection obsolete: the end-of-request check, queued behind it on the
    # request's thread, must see that and close it.
    connections["default"].close_at = 0
    STATE["events"].append("background done")


async def finish(request: Any) -> JsonResponse:
    body = await sync_to_async(_finish_work)()
    if OPTIONS.get("during") == "background":
        # Sync work the view starts and does not await: it runs on the request's thread, and
        # Django's end-of-request check queues behind it.
        STATE["background"] = asyncio.ensure_future(sync_to_async(_background)())
        await asyncio.sleep(0)  # it starts (and queues on the thread) before the view returns
    return JsonResponse(body)


urlpatterns = [path("query", query), path("finish", finish)]


async def serve(app: Any, url: str = "/query") -> tuple[int, dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    done = asyncio.Event()
    sent_body = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_body
        if not sent_body:
            sent_body = True
            return {"type": "http.request", "body": b""}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {"type": "http", "method": "GET", "path": url, "headers": []}
    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return messages[0]["status"], json.loads(body)


def make_app(kind: str) -> Any:
    if kind == "stock":
        from django.core.handlers.asgi import ASGIHandler

        return ASGIHandler()
    from daf_drf.asgi import ASGIHandler as Entry

    return Entry(thread_pool_size={"pool": 1, "opt-out": 0}.get(kind))


def closing(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """Where the request's connection was opened and closed, and whether it is closed now."""
    return {
        "status": status,
        "opened_on": body["thread"],
        "closed_on": STATE["closed_on"],
        "closed_after_request": STATE["wrappers"][0].connection is None,
    }


async def one_request() -> dict[str, Any]:
    app = make_app(OPTIONS["handler"])
    return closing(*await serve(app))


async def two_requests() -> dict[str, Any]:
    app = make_app(OPTIONS["handler"])
    first = (await serve(app))[1]
    if OPTIONS.get("expire"):
        # Past its CONN_MAX_AGE: the next request's start-of-request check must close it.
        STATE["wrappers"][0].close_at = 0
    second = (await serve(app))[1]
    return {
        "threads": [first["thread"], second["thread"]],
        "connections": [first["created"], second["created"]],
        "closed_on": STATE["closed_on"],
    }


async def end_of_request() -> dict[str, Any]:
    app = make_app(OPTIONS["handler"])
    status, body = await serve(app, "/finish")
    background = STATE.get("background")
    if background is not None:
        await background
    wrapper = STATE["wrappers"][0]
    return {
        **closing(status, body),
        "errors_occurred": wrapper.errors_occurred,
        "health_check_done": wrapper.health_check_done,
        "autocommit": wrapper.autocommit if wrapper.connection is not None else None,
        "events": STATE["events"],
        "paths": dict(getattr(app, "path_counts", {})),
    }


if __name__ == "__main__":
    scenario = {
        "one_request": one_request,
        "two_requests": two_requests,
        "end_of_request": end_of_request,
    }[sys.argv[1]]
    print(json.dumps(asyncio.run(scenario())))
