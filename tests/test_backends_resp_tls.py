"""
`rediss://` on the lean client, against a real `redis-server` listening with TLS
(`--tls-port`), with throwaway certificates made by `openssl` for this run: verified as
redis-py verifies, and a certificate nobody vouches for is refused, never silently unverified.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from daf_drf.backends import StoreUnavailable
from daf_drf.backends._resp import LeanRedis
from daf_drf.backends.redis import RedisStore
from tests.support.processes import free_port
from tests.support.redis import start_redis, stop_redis
from tests.tls import make_certificates


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_certificates(Path(tmp_path_factory.mktemp("tls")))


def _tls_server(certs: dict[str, str], cert: str, key: str, *options: str) -> Iterator[int]:
    plain, tls = free_port(), free_port()
    proc: subprocess.Popen[bytes] = start_redis(
        plain,
        "--tls-port", str(tls),
        "--tls-cert-file", certs[cert],
        "--tls-key-file", certs[key],
        "--tls-ca-cert-file", certs["ca"],
        *options,
    )  # fmt: skip
    try:
        yield tls
    finally:
        stop_redis(proc)


@pytest.fixture(scope="module")
def tls_port(certs: dict[str, str]) -> Iterator[int]:
    """A server with a certificate from the test CA; clients need no certificate."""
    yield from _tls_server(
        certs, "server_cert", "server_key", "--tls-auth-clients", "no",
        "--bind", "127.0.0.1", "127.0.0.2",
    )  # fmt: skip


@pytest.fixture(scope="module")
def mutual_tls_port(certs: dict[str, str]) -> Iterator[int]:
    """A server that also requires a client certificate from the test CA."""
    yield from _tls_server(certs, "server_cert", "server_key", "--tls-auth-clients", "yes")


@pytest.fixture(scope="module")
def rogue_port(certs: dict[str, str]) -> Iterator[int]:
    """A server whose certificate comes from a CA the clients do not trust."""
    yield from _tls_server(certs, "rogue_cert", "rogue_key", "--tls-auth-clients", "no")


def _check(url: str, key: str, parser: str = "auto") -> tuple[Any, Any]:
    async def run() -> tuple[Any, Any]:
        store = RedisStore(url, timeout=2.0, parser=parser)
        try:
            client = await store.async_client()
            return client, await store.ahit(key, 10, 60, None)
        finally:
            await store.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize("parser", ["python", "auto"])
def test_rediss_checks_run_on_the_lean_client_and_share_counters_with_redis_py(
    certs: dict[str, str], tls_port: int, parser: str
) -> None:
    url = f"rediss://127.0.0.1:{tls_port}/2?ssl_ca_certs={certs['ca']}"
    client, decision = _check(url, f"tls-{parser}", parser)
    assert isinstance(client, LeanRedis)
    assert decision.allowed
    assert decision.count == 1
    sync = RedisStore(url, timeout=2.0)
    try:
        assert sync.hit(f"tls-{parser}", 10, 60, None).count == 2  # redis-py, same counter
    finally:
        sync.close()
    with redis.Redis.from_url(url) as plain:
        assert plain.llen(f"daf_drf:tls-{parser}") == 2
        plain.delete(f"daf_drf:tls-{parser}")


def test_a_client_certificate_from_the_url_is_presented(
    certs: dict[str, str], mutual_tls_port: int
) -> None:
    base = f"rediss://127.0.0.1:{mutual_tls_port}/0?ssl_ca_certs={certs['ca']}"
    client, decision = _check(
        f"{base}&ssl_certfile={certs['cert']}&ssl_keyfile={certs['key']}", "m"
    )
    assert isinstance(client, LeanRedis)
    assert decision.allowed
    with pytest.raises(StoreUnavailable):  # without it, the server hangs up
        _check(base, "m-anonymous")


@pytest.mark.parametrize(
    "query",
    [
        "?ssl_ca_certs={ca}",  # the server's certificate is not from this CA
        "",  # nor from any CA the system trusts
        "?ssl_ca_certs={ca}&ssl_cert_reqs=required&ssl_check_hostname=false",
    ],
)
def test_a_certificate_nobody_vouches_for_is_refused(
    certs: dict[str, str], rogue_port: int, query: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"rediss://127.0.0.1:{rogue_port}/0" + query.format(**certs)
    with (
        caplog.at_level(logging.WARNING, logger="daf_drf.throttling"),
        pytest.raises(StoreUnavailable),
    ):
        _check(url, "rogue")
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


def test_a_host_name_the_certificate_does_not_name_is_refused(
    certs: dict[str, str], tls_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    # The certificate names 127.0.0.1 and localhost; 127.0.0.2 reaches the same server.
    url = f"rediss://127.0.0.2:{tls_port}/0?ssl_ca_certs={certs['ca']}&ssl_check_hostname=true"
    with (
        caplog.at_level(logging.WARNING, logger="daf_drf.throttling"),
        pytest.raises(StoreUnavailable),
    ):
        _check(url, "wrong-name")
    assert "mismatch" in caplog.text


def test_no_verification_only_when_the_url_asks_for_it_as_redis_py_does(
    certs: dict[str, str], rogue_port: int
) -> None:
    client, decision = _check(f"rediss://127.0.0.1:{rogue_port}/0?ssl_cert_reqs=none", "none")
    assert isinstance(client, LeanRedis)
    assert decision.allowed
