"""
The demo, started the way `make demo` starts it: `scripts/demo.sh` (migrate, seed, uvicorn on
127.0.0.1) as a subprocess on a free port, with its own SQLite file. Every endpoint is
exercised over HTTP, then the server is stopped by PID.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.demo import demo_server

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.e2e


def _start_demo(tmp_path: Path, **env: str) -> Iterator[str]:
    with demo_server(tmp_path, tmp_path / "demo.log", **env) as base:
        yield base


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _start_demo(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def client(demo: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo, timeout=10) as http:
        yield http


def test_root_redirects_to_the_api(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/api/"


def test_api_root_lists_every_endpoint(client: httpx.Client, demo: str) -> None:
    response = client.get("/api/")
    assert response.status_code == 200
    assert set(response.json().values()) == {
        f"{demo}/api/quotes/",
        f"{demo}/api/legacy/quotes/",
        f"{demo}/api/fanout/?calls=5&ms=200",
        f"{demo}/api/events/?count=5&interval=1",
        f"{demo}/upstream/slow?ms=200",
    }


def test_browsable_api_renders_html_with_its_static_files(client: httpx.Client) -> None:
    page = client.get("/api/", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Api Root" in page.text
    css = client.get("/static/rest_framework/css/bootstrap.min.css")
    assert css.status_code == 200


def test_seeded_quotes_are_listed_with_pagination(client: httpx.Client) -> None:
    response = client.get("/api/legacy/quotes/", headers={"X-Forwarded-For": "10.1.0.1"})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 8
    assert len(body["results"]) == 5
    assert body["next"].endswith("/api/legacy/quotes/?page=2")


def test_quotes_viewset_creates_retrieves_and_likes(client: httpx.Client) -> None:
    ident = {"X-Forwarded-For": "10.1.0.2"}
    created = client.post(
        "/api/quotes/", json={"text": "Make it work.", "author": "Grace Hopper"}, headers=ident
    )
    assert created.status_code == 201
    pk = created.json()["id"]
    assert client.get(f"/api/quotes/{pk}/", headers=ident).json()["text"] == "Make it work."
    liked = client.post(f"/api/quotes/{pk}/like/", headers=ident)
    assert liked.json() == {"id": pk, "likes": 1}
    invalid = client.post("/api/quotes/", json={"text": "x", "author": "Nobody"}, headers=ident)
    assert invalid.status_code == 400
    assert "author" in invalid.json()


def test_drf_and_daf_endpoints_share_the_quotes_throttle(client: httpx.Client) -> None:
    ident = {"X-Forwarded-For": "10.1.0.3"}
    statuses = [
        client.get(url, headers=ident).status_code
        for url in ["/api/quotes/", "/api/legacy/quotes/"] * 3
    ]
    assert statuses == [200] * 5 + [429]
    throttled = client.get("/api/quotes/", headers=ident)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "60"


def test_the_readmes_curl_commands_show_a_429_with_retry_after(client: httpx.Client) -> None:
    # README, "Try the throttle": five requests to the migrated endpoint, then the DRF one.
    ident = {"X-Forwarded-For": "10.1.0.4"}
    assert [client.get("/api/quotes/", headers=ident).status_code for _ in range(5)] == [200] * 5
    refused = client.get("/api/legacy/quotes/", headers=ident)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "60"
    assert refused.json() == {"detail": "Request was throttled. Expected available in 60 seconds."}


def test_fanout_gathers_every_upstream_call(client: httpx.Client) -> None:
    response = client.get("/api/fanout/", params={"calls": 5, "ms": 50})
    assert response.status_code == 200
    body = response.json()
    assert body["calls"] == 5
    assert body["results"] == [{"id": i, "slept_ms": 50} for i in range(5)]


def test_fanout_validates_its_parameters(client: httpx.Client) -> None:
    assert client.get("/api/fanout/", params={"calls": 0}).status_code == 400
    assert client.get("/api/fanout/", params={"ms": "slow"}).status_code == 400


def test_slow_upstream_answers_after_sleeping(client: httpx.Client) -> None:
    response = client.get("/upstream/slow", params={"ms": 10, "id": 7})
    assert response.json() == {"id": 7, "slept_ms": 10}


def test_events_stream_server_sent_events(client: httpx.Client) -> None:
    events = []
    with client.stream(
        "GET",
        "/api/events/",
        params={"count": 3, "interval": 0.05},
        headers={"Accept": "text/event-stream"},
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/event-stream"
        for line in response.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[len("data: ") :]))
    assert [event["tick"] for event in events] == [0, 1, 2]
    assert all(event["quote"] and event["author"] for event in events)


@pytest.mark.redis
def test_throttle_store_switches_to_redis_from_the_environment(
    tmp_path: Path, clean_redis: str
) -> None:
    import redis

    for base in _start_demo(tmp_path, DAF_DRF_THROTTLE_STORE=clean_redis):
        with httpx.Client(base_url=base, timeout=10) as http:
            statuses = [http.get("/api/quotes/").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        keys = redis.Redis.from_url(clean_redis).keys("*quotes*")
        assert keys, "no throttle key in Redis"
