"""
Item 9: with `DEBUG=False`, no exception leaks a traceback, its message or a file path.

Every exception type is raised from the handler, from a sync permission (run in a thread) and
from an async permission, through uvicorn and Django's ASGI handler.
"""

from __future__ import annotations

import httpx
import pytest

from tests.reliability.server import Server
from tests.reliability.views import EXCEPTION_KINDS, SECRET

PLACES = ["handler", "sync-permission", "async-permission"]


def test_at_least_twenty_exception_types_are_injected() -> None:
    assert len(EXCEPTION_KINDS) >= 20


@pytest.mark.parametrize("place", PLACES)
def test_no_exception_leaks_details_with_debug_off(server: Server, place: str) -> None:
    statuses = {}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for kind in EXCEPTION_KINDS:
            response = client.get(f"/boom/{place}/{kind}", headers={"accept": "application/json"})
            body = response.text
            statuses[kind] = response.status_code
            assert SECRET not in body, (kind, body)
            assert "Traceback" not in body, (kind, body)
            assert ".py" not in body, (kind, body)
            assert "/work/" not in body, (kind, body)
            assert "site-packages" not in body, (kind, body)
    # Django's own error responses: 400 for SuspiciousOperation subclasses, 500 otherwise.
    assert statuses["suspicious"] == 400
    assert statuses["too_big"] == 400
    assert all(
        code == 500 for kind, code in statuses.items() if kind not in {"suspicious", "too_big"}
    ), statuses


def test_the_server_survives_every_injected_exception(server: Server) -> None:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/ident", params={"id": "alive"}).json()["contextvar"] == "alive"
