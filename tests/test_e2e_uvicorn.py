"""
End to end through a real uvicorn process on 127.0.0.1, serving `tests/e2e_project`.

The server starts once per module on a free loopback port, is given a bounded time to listen,
and is stopped by its PID.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import free_port, start, stop

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.e2e_project.settings"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    # A file, not a pipe: a chatty server can never block on a full pipe.
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in the finally below)
    argv = [
        sys.executable,
        "-m",
        "uvicorn",
        "tests.e2e_project.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--lifespan",
        "off",
    ]
    try:
        try:
            proc = start(
                argv, port, timeout=15, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log
            )
        except RuntimeError:
            log.seek(0)
            stderr = log.read().decode(errors="replace")
            pytest.fail(f"uvicorn did not start on port {port}:\n{stderr}")
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc)
    finally:
        log.close()


@pytest.fixture
def client(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=5) as client:
        yield client


def test_get_answers_json(client: httpx.Client) -> None:
    response = client.get("/items/")
    assert response.status_code == 200
    assert response.json() == {"items": [1, 2, 3]}
    assert response.headers["content-type"] == "application/json"
    assert response.headers["vary"] == "Accept"


def test_post_parses_a_json_body(client: httpx.Client) -> None:
    response = client.post("/items/", json={"name": "x"})
    assert response.status_code == 201
    assert response.json() == {"created": {"name": "x"}}


def test_head_has_get_headers_and_no_body(client: httpx.Client) -> None:
    response = client.head("/items/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b""


def test_405_carries_allow(client: httpx.Client) -> None:
    response = client.delete("/items/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST, HEAD, OPTIONS"


def test_options_answers_metadata(client: httpx.Client) -> None:
    response = client.options("/items/")
    assert response.status_code == 200
    assert response.json()["name"] == "Items"


def test_async_permission_returning_false_denies(client: httpx.Client) -> None:
    response = client.get("/denied/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Async permission denied."}


def test_throttled_sends_retry_after(client: httpx.Client) -> None:
    response = client.get("/throttled/")
    assert response.status_code == 429
    assert response.headers["retry-after"] == "9"


def test_unhandled_exception_is_a_500_without_details(client: httpx.Client) -> None:
    response = client.get("/crash/")
    assert response.status_code == 500
    assert "SECRET-e2e" not in response.text
    assert "/srv/secret.py" not in response.text
    assert "Traceback" not in response.text


def test_malformed_json_is_a_400(client: httpx.Client) -> None:
    response = client.post(
        "/items/", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")
