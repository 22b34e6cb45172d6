"""
Item 7: client identity as DRF documents it, through uvicorn, with `NUM_PROXIES` unset, 0, 1
and 2, and uvicorn's own proxy-header handling on and off.

`/per-client` answers the ident `get_ident` computed; its throttle allows 2 requests per
minute per ident.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability.server import Server, serve

XFF = "0.0.0.0, 1.1.1.1, 2.2.2.2"
EXPECTED = {None: "0.0.0.0,1.1.1.1,2.2.2.2", 0: "127.0.0.1", 1: "2.2.2.2", 2: "1.1.1.1"}


def _random_ip() -> str:
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


@pytest.fixture(params=[None, 0, 1, 2], ids=lambda n: f"NUM_PROXIES={n}")
def proxied(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int | None, Server]]:
    env = {"RELIABILITY_RATE": "2/min"}
    if request.param is not None:
        env["RELIABILITY_NUM_PROXIES"] = str(request.param)
    tmp = Path(tmp_path_factory.mktemp("identity"))
    # uvicorn's proxy headers off: DRF alone decides, from REMOTE_ADDR and X-Forwarded-For.
    with serve(tmp, env, uvicorn_args=("--no-proxy-headers",), migrate=False) as server:
        yield request.param, server


def test_the_ident_is_what_drf_documents(proxied: tuple[int | None, Server]) -> None:
    num_proxies, server = proxied
    with httpx.Client(base_url=server.url, timeout=10) as client:
        response = client.get("/per-client", headers={"X-Forwarded-For": XFF})
    assert response.json()["ident"] == EXPECTED[num_proxies]


def test_spoofed_forwarded_for_headers_from_one_peer(proxied: tuple[int | None, Server]) -> None:
    """One peer sends 6 requests, each claiming a fresh X-Forwarded-For chain."""
    num_proxies, server = proxied
    statuses = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for _ in range(6):
            # The real proxies append the peer they saw; the client controls what comes before.
            chain = ", ".join([_random_ip(), _random_ip(), "203.0.113.7", "10.0.0.1"])
            statuses.append(
                client.get("/per-client", headers={"X-Forwarded-For": chain}).status_code
            )
    if num_proxies is None:
        # DRF's default: the whole header is the ident, so each spoofed chain is a new client.
        # This is why the docs say to set NUM_PROXIES behind a proxy.
        assert statuses == [200] * 6
    else:
        # 0: REMOTE_ADDR; 1: the last proxy's peer (10.0.0.1); 2: the one before it
        # (203.0.113.7). The spoofed entries never reach the ident: 2 admitted, then 429.
        assert statuses == [200, 200, 429, 429, 429, 429]


def test_uvicorn_proxy_headers_rewrite_remote_addr_before_drf(
    tmp_path: Path,
) -> None:
    """
    uvicorn trusts X-Forwarded-For from 127.0.0.1 by default and rewrites the client address.
    With NUM_PROXIES=0, DRF then reads the header's last entry as REMOTE_ADDR: configure one
    of the two layers, not both (docs/reliability.md, "Client identity behind proxies").
    """
    env = {"RELIABILITY_RATE": "2/min", "RELIABILITY_NUM_PROXIES": "0"}
    with (
        serve(tmp_path, env, migrate=False) as server,
        httpx.Client(base_url=server.url, timeout=10) as client,
    ):
        response = client.get("/per-client", headers={"X-Forwarded-For": XFF})
    assert response.json()["ident"] == "2.2.2.2"
