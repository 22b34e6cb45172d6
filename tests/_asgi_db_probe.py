"""
Database-connection probe for `tests/test_asgi.py`, run in a subprocess.

Each run configures Django with a file SQLite database (`PROBE_DB`) and `CONN_MAX_AGE` from
`PROBE_OPTIONS`, serves requests through the chosen handler (`stock`: Django's
`ASGIHandler`; `entry`: daf_drf's, as configured by default; `pool`: daf_drf's with a
one-thread pool; `opt-out`: daf_drf's with `thread_pool_size=0`) on an event
loop in the main thread, and prints one JSON line: which thread opened the connection, which
threads closed it (each wrapper's `close` is wrapped to record that, then calls Django's), and
whether it was still open after the request.

    python tests/_asgi_db_probe.py one_request|two_requests
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
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

STATE: dict[str, Any] = {"opened_on": [], "closed_on": [], "created": 0, "wrappers": []}


def _on_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    STATE["created"] += 1
    STATE["opened_on"].append(threading.current_thread().name)
    if connection not in STATE["wrappers"]:
        STATE["wrappers"].append(connection)
        original = connection.close

        def close() -> None:
            if connection.connection is not None:
                STATE["closed_on"].append(threading.current_thread().name)
            original()

        connection.close = close


connection_created.connect(_on_created)


def _query() -> dict[str, Any]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"thread": threading.current_thread().name, "created": STATE["created"]}


async def query(request: Any) -> JsonResponse:
    return JsonResponse(await sync_to_async(_query)())


urlpatterns = [path("query", query)]


async def serve(app: Any) -> tuple[int, dict[str, Any]]:
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

    scope = {"type": "http", "method": "GET", "path": "/query", "headers": []}
    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return messages[0]["status"], json.loads(body)


def make_app(kind: str) -> Any:
    if kind == "stock":
        from django.core.handlers.asgi import ASGIHandler

        return ASGIHandler()
    from daf_drf.asgi import ASGIHandler as Entry

    return Entry(thread_pool_size={"pool": 1, "opt-out": 0}.get(kind))


async def one_request() -> dict[str, Any]:
    app = make_app(OPTIONS["handler"])
    status, body = await serve(app)
    wrapper = STATE["wrappers"][0]
    return {
        "status": status,
        "opened_on": body["thread"],
        "closed_on": STATE["closed_on"],
        "closed_after_request": wrapper.connection is None,
    }


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


if __name__ == "__main__":
    scenario = {"one_request": one_request, "two_requests": two_requests}[sys.argv[1]]
    print(json.dumps(asyncio.run(scenario())))
