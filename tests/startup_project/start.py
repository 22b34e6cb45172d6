"""
Start the project one way, in this fresh interpreter, and check the case's setting took effect.

    DAF_STARTUP_CASE='{"setting": ..., "value": ..., "order": ...}' \
        python -m tests.startup_project.start ENTRY

ENTRY is one of
- `check`: `manage.py check` (Django's `execute_from_command_line`);
- `runserver`: what `runserver --skip-checks` does before serving (the internal WSGI
  application, its middleware), then a first request through it (which imports the URLconf);
- `daf-asgi` / `django-asgi`: `daf_drf.asgi.get_asgi_application()` / Django's, then a first
  request through it.

Exits 0 and prints `STARTUP-OK` when the project started, the first requests answered 200 and
DRF's settings resolve to the objects the case named; anything else is a traceback.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from typing import Any

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.startup_project.settings"

PROBES = ("/probe/daf/", "/probe/drf/")

# A list setting and the APIView attribute DRF fills from it when rest_framework.views loads.
VIEW_ATTRIBUTES = {
    "DEFAULT_AUTHENTICATION_CLASSES": "authentication_classes",
    "DEFAULT_PERMISSION_CLASSES": "permission_classes",
    "DEFAULT_THROTTLE_CLASSES": "throttle_classes",
    "DEFAULT_RENDERER_CLASSES": "renderer_classes",
    "DEFAULT_PARSER_CLASSES": "parser_classes",
}


def wsgi_get(application: Any, path: str) -> int:
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    body = b"".join(application(environ, lambda s, h, *_: status.append(s)))
    code = int(status[0].split()[0])
    if code != 200:
        raise AssertionError(f"GET {path} answered {status[0]}: {body[:500]!r}")
    return code


def asgi_get(application: Any, path: str) -> int:
    sent: list[dict[str, Any]] = []
    received: list[int] = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        if len(received) == 1:
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays connected (cancelled at the end)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    asyncio.run(application(scope, receive, send))
    code = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    if code != 200:
        raise AssertionError(f"GET {path} answered {code}: {body[:500]!r}")
    return int(code)


def start(entry: str) -> None:
    if entry == "check":
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", "check", "--fail-level", "ERROR"])
    elif entry == "runserver":
        import django
        from django.core.management.commands.runserver import Command

        # `manage.py runserver` sets Django up in ManagementUtility.execute(), then
        # inner_run() builds the handler named by WSGI_APPLICATION and serves it.
        django.setup()
        handler = Command().get_handler()
        for path in PROBES:
            wsgi_get(handler, path)
    elif entry in ("daf-asgi", "django-asgi"):
        if entry == "daf-asgi":
            from daf_drf.asgi import get_asgi_application
        else:
            from django.core.asgi import get_asgi_application
        application = get_asgi_application()
        for path in PROBES:
            asgi_get(application, path)
    else:
        raise SystemExit(f"unknown entry {entry!r}")


def check_effect() -> None:
    """The case's setting resolved to the objects it names (it was not silently ignored)."""
    from django.conf import settings

    case = settings.CASE
    named = case["value"] if case["setting"] == "ALL" else {case["setting"]: case["value"]}
    for name, value in named.items():
        check_setting(name, value)


def check_setting(name: str, value: Any) -> None:
    from django.conf import settings
    from django.utils.module_loading import import_string

    if name == "MIDDLEWARE":
        for path in value if isinstance(value, list) else [value]:
            assert path in settings.MIDDLEWARE, settings.MIDDLEWARE
            import_string(path)
        return
    from rest_framework import views
    from rest_framework.settings import api_settings

    resolved = getattr(api_settings, name)
    wanted = [import_string(v) for v in value] if isinstance(value, list) else import_string(value)
    assert resolved == wanted, (name, resolved, wanted)
    attribute = VIEW_ATTRIBUTES.get(name)
    if attribute is not None:
        from daf_drf import views as daf_views

        for view in (views.APIView, daf_views.APIView):
            assert list(getattr(view, attribute)) == wanted, (view, attribute)


if __name__ == "__main__":
    start(sys.argv[1])
    check_effect()
    print("STARTUP-OK", flush=True)
