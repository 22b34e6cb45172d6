"""The 50 ms upstream call of the `upstream` case, sync and async, over plain HTTP/1.0."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from django.conf import settings

from bench.project.common import _get

UPSTREAM_MS = 50


def _target() -> tuple[str, int, str]:
    upstream = urlsplit(settings.UPSTREAM_URL)
    return upstream.hostname or "127.0.0.1", upstream.port or 80, f"/slow?ms={UPSTREAM_MS}"


def call() -> int:
    """The call as a sync view makes it (it blocks its worker thread for 50 ms)."""
    host, port, path = _target()
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


async def acall() -> int:
    """The same call awaited on the event loop."""
    host, port, path = _target()
    return await _get(host, port, path)
