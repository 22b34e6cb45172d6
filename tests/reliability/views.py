"""Endpoints the reliability suite attacks: each one a behaviour under fault or load."""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import random
import time
from pathlib import Path
from typing import Any

import django.core.exceptions as dj
from django.db import DatabaseError, IntegrityError, OperationalError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from daf_drf.throttling import AnonRateThrottle
from daf_drf.views import APIView
from tests.models import AuditEntry

SECRET = "SECRET-INTERNAL-DETAIL"


def _exceptions() -> dict[str, BaseException]:
    def unicode_error() -> UnicodeDecodeError:
        return UnicodeDecodeError("utf-8", b"\xff", 0, 1, SECRET)

    return {
        "value": ValueError(SECRET),
        "key": KeyError(SECRET),
        "type": TypeError(SECRET),
        "runtime": RuntimeError(SECRET),
        "recursion": RecursionError(SECRET),
        "zero": ZeroDivisionError(SECRET),
        "attribute": AttributeError(SECRET),
        "index": IndexError(SECRET),
        "database": DatabaseError(SECRET),
        "integrity": IntegrityError(SECRET),
        "operational": OperationalError(SECRET),
        "sync_only": dj.SynchronousOnlyOperation(SECRET),
        "too_big": dj.RequestDataTooBig(SECRET),
        "suspicious": dj.SuspiciousOperation(SECRET),
        "does_not_exist": dj.ObjectDoesNotExist(SECRET),
        "multiple": dj.MultipleObjectsReturned(SECRET),
        "django_validation": dj.ValidationError(SECRET),
        "unicode": unicode_error(),
        "os": OSError(SECRET),
        "not_implemented": NotImplementedError(SECRET),
        "assertion": AssertionError(SECRET),
        "json": json.JSONDecodeError(SECRET, "{", 0),
        "timeout": TimeoutError(SECRET),
    }


EXCEPTION_KINDS = sorted(_exceptions())


class Boom(APIView):
    """Raises the exception named in the URL from the handler."""

    async def get(self, request: Any, kind: str) -> Response:
        raise _exceptions()[kind]


class RaisingSyncPermission(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        raise _exceptions()[view.kwargs["kind"]]


class RaisingAsyncPermission(BasePermission):
    async def has_permission(self, request: Any, view: Any) -> bool:  # type: ignore[override]
        raise _exceptions()[view.kwargs["kind"]]


class BoomInSyncPermission(Boom):
    permission_classes = [RaisingSyncPermission]


class BoomInAsyncPermission(Boom):
    permission_classes = [RaisingAsyncPermission]


class Echo(APIView):
    async def post(self, request: Any) -> Response:
        return Response({"type": type(request.data).__name__})


def _mark(name: str) -> None:
    folder = Path(os.environ["RELIABILITY_MARKS"])
    (folder / f"{name}-{time.time():.6f}").touch()


class Slow(APIView):
    """Touches the database, then waits; records when it starts and when it is cancelled."""

    async def get(self, request: Any) -> Response:
        await AuditEntry.objects.acount()
        _mark("started")
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            _mark("cancelled")
            raise
        return Response({"slept": 30})


request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id")


class Ident(APIView):
    """Sets a contextvar and a request attribute, yields to other requests, reads them back."""

    async def get(self, request: Any) -> Response:
        mine = request.query_params["id"]
        request_id.set(mine)
        request.own_id = mine
        for _ in range(3):
            await asyncio.sleep(random.uniform(0, 0.01))
        return Response({"contextvar": request_id.get(), "attribute": request.own_id})


class OneKeyThrottle(AnonRateThrottle):
    """Every client counts against one key: admission is easy to count from outside."""

    scope = "reliability"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": "everyone"}


class PerClientThrottle(AnonRateThrottle):
    """DRF's per-client key (`get_ident`: REMOTE_ADDR, X-Forwarded-For, NUM_PROXIES)."""

    scope = "reliability"


class Throttled(APIView):
    throttle_classes = [OneKeyThrottle]

    async def get(self, request: Any) -> Response:
        return Response({"admitted": True})


class PerClient(APIView):
    throttle_classes = [PerClientThrottle]

    async def get(self, request: Any) -> Response:
        return Response({"ident": PerClientThrottle().get_ident(request)})
