"""
Item 10: hostile bodies get 400/413 JSON, never a 500, and cost bounded memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.reliability.server import Server

LIMIT = 1024 * 1024  # DATA_UPLOAD_MAX_MEMORY_SIZE of tests.reliability.settings


def post(server: Server, body: bytes, content_type: str = "application/json") -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        return client.post("/echo", content=body, headers={"content-type": content_type})


def test_malformed_json_is_a_400_json_error(server: Server) -> None:
    response = post(server, b'{"a": ')
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deeply_nested_json_is_a_400_not_a_500(server: Server, depth: int) -> None:
    response = post(server, b"[" * depth + b"]" * depth)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_body_over_the_upload_limit_is_a_413_json_error(server: Server) -> None:
    response = post(server, b'"' + b"a" * (LIMIT + 10) + b'"')
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json; charset=bz2_codec", b'{"a": 1}'),
        ("application/json; charset=utf-16", b'{"a": 1}'),
        ("application/json; charset=utf-8", b'{"a": "\xff\xfe"}'),
    ],
)
def test_wrong_charsets_are_a_400_json_error(
    server: Server, content_type: str, body: bytes
) -> None:
    response = post(server, body, content_type)
    assert response.status_code == 400, response.text
    assert response.json()["detail"]


def test_an_unknown_charset_is_ignored_as_django_does(server: Server) -> None:
    # Django drops a charset it cannot look up and decodes with DEFAULT_CHARSET, as DRF does.
    response = post(server, b'{"a": 1}', "application/json; charset=utf-99")
    assert response.status_code == 200
    assert response.json() == {"type": "dict"}


def test_an_unsupported_media_type_is_a_415(server: Server) -> None:
    response = post(server, b"<a/>", "application/xml")
    assert response.status_code == 415


def _chunks(total: int, size: int = 256 * 1024) -> Iterator[bytes]:
    chunk = b"a" * size
    for _ in range(total // size):
        yield chunk


def test_ten_parallel_100_mb_uploads_are_rejected_with_bounded_memory(server: Server) -> None:
    baseline = server.rss_kib()
    peak = baseline
    statuses: list[int] = []
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, server.rss_kib())

    def upload() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as client:
            response = client.post(
                "/echo",
                content=_chunks(100 * 1024 * 1024),
                headers={
                    "content-type": "application/json",
                    "content-length": str(100 * 1024 * 1024),
                },
            )
            statuses.append(response.status_code)

    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.monotonic()
    uploads = [threading.Thread(target=upload) for _ in range(10)]
    for thread in uploads:
        thread.start()
    for thread in uploads:
        thread.join(timeout=180)
    done.set()
    sampler.join()
    assert time.monotonic() - started < 180
    assert statuses == [413] * 10
    growth_kib = peak - baseline
    assert growth_kib <= 10 * 2 * LIMIT // 1024, f"server grew by {growth_kib} KiB"
