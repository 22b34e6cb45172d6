"""
End to end through Django's real `ASGIHandler` (scope, receive, send), as a server runs it:
methods, negotiation errors, unhandled exceptions with `DEBUG=False`, client disconnects,
and an ORM-writing sync exception handler.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ImproperlyConfigured, SuspiciousOperation
from django.db import DatabaseError
from django.test import SimpleTestCase, TransactionTestCase, override_settings
from django.urls import path
from rest_framework import exceptions
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from daf_drf.exceptions import UserNotLoaded
from daf_drf.views import APIView
from tests.asgi_client import asgi_request
from tests.models import AuditEntry

SECRET = "SECRET-7f3a"
SECRET_PATH = "/srv/secret/settings_local.py"


class Resource(APIView):
    """A resource answering every method."""

    authentication_classes: list[Any] = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    async def get(self, request: Any) -> Response:
        return Response({"method": "GET"})

    async def post(self, request: Any) -> Response:
        return Response({"created": request.data}, status=201)

    async def put(self, request: Any) -> Response:
        return Response({"replaced": request.data})

    async def patch(self, request: Any) -> Response:
        return Response({"patched": request.data})

    async def delete(self, request: Any) -> Response:
        return Response(status=204)


class ReadOnly(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        return Response({"method": "GET"})


def _leaky(exc_factory: Callable[[], BaseException]) -> type[APIView]:
    class Leaky(APIView):
        authentication_classes: list[Any] = []

        async def get(self, request: Any) -> Response:
            raise exc_factory()

    return Leaky


def _recursion() -> BaseException:
    return RecursionError(f"maximum recursion depth exceeded in {SECRET_PATH}")


def _unicode() -> BaseException:
    return UnicodeDecodeError("utf-8", SECRET.encode(), 0, 1, "invalid start byte")


LEAKS: dict[str, Callable[[], BaseException]] = {
    "runtime": lambda: RuntimeError(f"{SECRET} in {SECRET_PATH}"),
    "value": lambda: ValueError(SECRET),
    "key": lambda: KeyError(SECRET),
    "type": lambda: TypeError(f"{SECRET}() takes 2 arguments"),
    "zero_division": lambda: ZeroDivisionError(SECRET),
    "attribute": lambda: AttributeError(f"'Secret' object has no attribute '{SECRET}'"),
    "file_not_found": lambda: FileNotFoundError(2, "No such file", SECRET_PATH),
    "permission": lambda: PermissionError(13, "Permission denied", SECRET_PATH),
    "import": lambda: ImportError(f"cannot import {SECRET}", path=SECRET_PATH),
    "recursion": _recursion,
    "unicode_decode": _unicode,
    "assertion": lambda: AssertionError(SECRET),
    "improperly_configured": lambda: ImproperlyConfigured(SECRET),
    "database": lambda: DatabaseError(f"relation {SECRET} does not exist"),
    "user_not_loaded": lambda: UserNotLoaded("user"),
    "suspicious_operation": lambda: SuspiciousOperation(SECRET),
}


class CancelObserver(APIView):
    authentication_classes: list[Any] = []
    started: asyncio.Event
    outcome: list[str] = []
    handled: list[str] = []

    def get_exception_handler(self) -> Any:
        def record(exc: Exception, context: Any) -> Any:
            CancelObserver.handled.append(type(exc).__name__)

        return record

    async def get(self, request: Any) -> Response:
        CancelObserver.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            CancelObserver.outcome.append("cancelled")
            raise
        return Response()


def audit_handler(exc: Exception, context: dict[str, Any]) -> Response:
    AuditEntry.objects.create(message=f"{type(exc).__name__} at {context['request'].path}")
    return Response({"audited": AuditEntry.objects.count()}, status=exc.status_code)  # type: ignore[attr-defined]


class Audited(APIView):
    authentication_classes: list[Any] = []

    def get_exception_handler(self) -> Any:
        return audit_handler

    async def get(self, request: Any) -> Response:
        raise exceptions.NotFound()


urlpatterns = [
    path("resource/", Resource.as_view()),
    path("read-only/", ReadOnly.as_view()),
    path("cancel/", CancelObserver.as_view()),
    path("audited/", Audited.as_view()),
    *(path(f"leak/{name}/", _leaky(factory).as_view()) for name, factory in LEAKS.items()),
]

JSON = [("Content-Type", "application/json")]


@contextmanager
def captured_logs(level: int = logging.WARNING) -> Iterator[list[logging.LogRecord]]:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level)
    root = logging.getLogger()
    loggers = [
        root,
        *(logging.getLogger(name) for name in ("django", "django.request", "daf_drf", "asyncio")),
    ]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


@override_settings(ROOT_URLCONF=__name__)
class MethodsThroughASGITests(SimpleTestCase):
    async def test_get(self) -> None:
        result = await asgi_request("GET", "/resource/")
        assert result.status == 200
        assert result.json() == {"method": "GET"}

    async def test_post_put_patch_carry_a_json_body(self) -> None:
        body = json.dumps({"n": 1}).encode()
        for method, key, status in (
            ("POST", "created", 201),
            ("PUT", "replaced", 200),
            ("PATCH", "patched", 200),
        ):
            result = await asgi_request(method, "/resource/", body, JSON)
            assert result.status == status, method
            assert result.json() == {key: {"n": 1}}

    async def test_delete(self) -> None:
        result = await asgi_request("DELETE", "/resource/")
        assert result.status == 204
        assert result.body == b""

    async def test_head_answers_like_get(self) -> None:
        # Django's ASGI handler leaves dropping a HEAD body to the server (see the uvicorn
        # test); the view answers HEAD exactly as GET.
        head = await asgi_request("HEAD", "/resource/")
        get = await asgi_request("GET", "/resource/")
        assert head.status == 200
        assert head.headers == get.headers

    async def test_options_answers_drfs_metadata(self) -> None:
        result = await asgi_request("OPTIONS", "/resource/")
        assert result.status == 200
        assert result.json()["name"] == "Resource"
        assert result.json()["parses"] == ["application/json"]

    async def test_405_lists_the_allowed_methods(self) -> None:
        result = await asgi_request("POST", "/read-only/")
        assert result.status == 405
        assert result.headers["allow"] == "GET, HEAD, OPTIONS"
        assert result.json() == {"detail": 'Method "POST" not allowed.'}

    async def test_406_for_an_unacceptable_accept_header(self) -> None:
        result = await asgi_request("GET", "/resource/", headers=[("Accept", "text/csv")])
        assert result.status == 406

    async def test_415_for_an_unsupported_content_type(self) -> None:
        result = await asgi_request("POST", "/resource/", b"a,b", [("Content-Type", "text/csv")])
        assert result.status == 415
        assert result.json() == {"detail": 'Unsupported media type "text/csv" in request.'}

    async def test_400_for_a_parse_error(self) -> None:
        result = await asgi_request("POST", "/resource/", b"{nope", JSON)
        assert result.status == 400
        assert result.json()["detail"].startswith("JSON parse error")

    async def test_400_for_json_nested_100000_levels(self) -> None:
        body = b"[" * 100_000 + b"]" * 100_000
        result = await asgi_request("POST", "/resource/", body, JSON)
        assert result.status == 400
        assert result.headers["content-type"] == "application/json"

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=64)
    async def test_413_json_for_a_body_over_the_limit(self) -> None:
        result = await asgi_request("POST", "/resource/", b'{"a": "' + b"x" * 100 + b'"}', JSON)
        assert result.status == 413
        assert result.headers["content-type"] == "application/json"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
class NoLeakWithDebugOffTests(SimpleTestCase):
    async def test_unhandled_exceptions_leak_no_message_traceback_or_path(self) -> None:
        assert len(LEAKS) >= 10
        for name in LEAKS:
            with self.subTest(name), captured_logs():
                result = await asgi_request("GET", f"/leak/{name}/")
                body = result.body.decode("utf-8", "replace")
                assert result.status == (400 if name == "suspicious_operation" else 500)
                for secret in (SECRET, SECRET_PATH, "Traceback", 'File "', ".py", "/work/"):
                    assert secret not in body, (name, secret, body)
                assert "request.user" not in body


@override_settings(ROOT_URLCONF=__name__)
class ClientDisconnectTests(SimpleTestCase):
    async def test_a_disconnect_cancels_the_view_without_a_response_or_an_error_log(self) -> None:
        CancelObserver.started = asyncio.Event()
        CancelObserver.outcome = []
        CancelObserver.handled = []
        with captured_logs(logging.ERROR) as records:
            result = await asgi_request("GET", "/cancel/", disconnect_after=CancelObserver.started)
        assert CancelObserver.outcome == ["cancelled"]
        assert CancelObserver.handled == []  # never reached the exception handler
        assert result.messages == []  # nothing was sent: no 500, no response at all
        assert records == []


@override_settings(ROOT_URLCONF=__name__)
class OrmExceptionHandlerThroughASGITests(TransactionTestCase):
    async def test_a_sync_exception_handler_writes_an_orm_row_in_its_thread_hop(self) -> None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
        result = await asgi_request("GET", "/audited/")
        assert result.status == 404
        assert result.json() == {"audited": 1}
        entry = await AuditEntry.objects.aget()
        assert entry.message == "NotFound at /audited/"
