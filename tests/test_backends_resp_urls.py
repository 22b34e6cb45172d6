"""
The lean client reads Redis URLs exactly as redis-py does, or leaves them to redis-py.

A DRF view counts its throttles through redis-py, a daf_drf view through the lean client: for
every URL of the corpus, both must target the same server, database and credentials (and, for
`rediss://`, the same certificate checks), or the lean client must decline the URL. Each URL
is compared with what the installed redis-py makes of it, sync and async clients both.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.connection as aconnection
import redis.connection
from redis.credentials import UsernamePasswordCredentialProvider

from daf_drf.backends._resp import LeanRedis, Target, lean_target
from daf_drf.backends.redis import RedisStore

SERVED = {"host", "port", "path", "username", "password", "db"}

CORPUS = [
    # server and database
    "redis://h",
    "redis://h:6380",
    "redis://H.Example.COM:6380/0",
    "redis://[::1]:6380/2",
    "redis://h/3",
    "redis://h/%31",
    "redis://h/1?db=2",  # redis-py: the query wins
    "redis://h?db=5",
    "redis://h/0?db=1&db=2",  # redis-py: the first wins
    "redis://h/x",  # redis-py: not a number, so db 0
    "redis://h/1?db=x",  # redis-py: an error
    "redis://h?db=",
    "redis://h:0/1",
    "REDIS://h/4",
    "redis://h%2Dx/0",
    # credentials
    "redis://:@h/0",  # empty password: no AUTH for redis-py
    "redis://:pw@h/0",
    "redis://bob:pw@h/0",
    "redis://bob@h/0",
    "redis://bob:@h/0",
    "redis://:p%40ss%3Aw%2Fd@h/0",
    "redis://b%40b:p%25w@h",
    "redis://:p%2520@h",
    "redis://default:s3cret@h:6379/0",
    # unix sockets
    "unix:///tmp/r.sock",
    "unix:///tmp/r.sock?db=3",
    "unix://:pw@/tmp/r.sock?db=3",
    "unix:///tmp/r%20s.sock",
    "unix:///tmp/r.sock/4",
    "unix://",
    # TLS
    "rediss://h",
    "rediss://h:6380/1?ssl_cert_reqs=none",
    "rediss://h/0?ssl_cert_reqs=optional",
    "rediss://h/0?ssl_cert_reqs=required&ssl_check_hostname=false",
    "rediss://h/0?ssl_check_hostname=true",
    "rediss://bob:pw@h/2?ssl_ca_certs={ca}",
    "rediss://h/0?ssl_ca_certs={ca}&ssl_certfile={cert}&ssl_keyfile={key}",
    "rediss://h/0?ssl_ca_certs=/nonexistent/ca.pem",
    "rediss://h/0?ssl_cert_reqs=bogus",
    "rediss://h/0?ssl_ca_path={dir}",
    "rediss://h/0?ssl_min_version=771",
    "rediss://h/0?ssl_ciphers=HIGH",
    # options the lean client does not reproduce, and other schemes
    "redis://h/0?socket_timeout=1",
    "redis://h/0?protocol=3",
    "redis://h/0?protocol=2",
    "redis://h/0?client_name=web",
    "redis://h/0?decode_responses=true",
    "redis://h/0?health_check_interval=5",
    "redis://h/0?max_connections=3",
    "redis://h/0?foo=bar",
    "redis://h/0?ssl_cert_reqs=none",  # a TLS option on a plain URL
    "redis+sentinel://s:26379/main/0",
    "redis+cluster://n:6379",
    "http://h/0",
    "h:6379",
]

# URLs the lean client must serve (so that declining everything cannot pass the corpus).
SERVED_URLS = {
    "redis://h",
    "redis://h/1?db=2",
    "redis://h/x",
    "redis://:@h/0",
    "redis://bob:pw@h/0",
    "redis://:p%40ss%3Aw%2Fd@h/0",
    "unix:///tmp/r.sock?db=3",
    "rediss://h",
    "rediss://h:6380/1?ssl_cert_reqs=none",
    "rediss://bob:pw@h/2?ssl_ca_certs={ca}",
    "rediss://h/0?ssl_ca_certs={ca}&ssl_certfile={cert}&ssl_keyfile={key}",
}


def redis_py_reads(module: Any, url: str) -> tuple[type, dict[str, Any]] | None:
    """
    The connection class and options redis-py's `from_url` makes of `url` (with the parser
    of the client's module), or None if it refuses the URL.
    """
    try:
        options = dict(module.parse_url(url))
    except ValueError:
        return None
    default = module.Connection
    return options.pop("connection_class", default), options


def login(options: dict[str, Any]) -> tuple[str, ...] | None:
    # What redis-py's `on_connect` sends as `AUTH` for these options.
    if not (options.get("username") or options.get("password")):
        return None
    provider = UsernamePasswordCredentialProvider(options.get("username"), options.get("password"))
    return tuple(provider.get_credentials())


def disagreements(url: str, target: Target) -> list[str]:
    found = []
    for module in (redis.connection, aconnection):
        read = redis_py_reads(module, url)
        if read is None:
            found.append(f"{module.__name__} refuses the URL the lean client serves")
            continue
        kind, options = read
        unix = issubclass(kind, (redis.connection.UnixDomainSocketConnection,))
        unix = unix or issubclass(kind, aconnection.UnixDomainSocketConnection)
        tls = issubclass(kind, (redis.connection.SSLConnection, aconnection.SSLConnection))
        extra = {name for name in options if name not in SERVED and not name.startswith("ssl_")}
        if extra or (not tls and any(name.startswith("ssl_") for name in options)):
            found.append(f"{module.__name__} also reads {sorted(options)}")
        expected = {
            "path": options.get("path") if unix else None,
            "host": "" if unix else options.get("host", "localhost"),
            "port": 0 if unix else options.get("port", 6379),
            "db": options.get("db", 0),
            "login": login(options),
            "tls": tls,
        }
        actual = {
            "path": target.path,
            "host": target.host,
            "port": target.port,
            "db": target.db,
            "login": target.login(),
            "tls": target.tls is not None,
        }
        if expected != actual:
            found.append(f"{module.__name__}: {expected} != lean {actual}")
        if tls and target.tls is not None:
            ssl_options = {k: v for k, v in options.items() if k.startswith("ssl_")}
            reference = aconnection.SSLConnection(**ssl_options).ssl_context.get()
            for attribute in ("verify_mode", "check_hostname", "minimum_version", "options"):
                if getattr(reference, attribute) != getattr(target.tls, attribute):
                    found.append(f"TLS {attribute} differs")
            if reference.get_ca_certs() != target.tls.get_ca_certs():
                found.append("TLS CA certificates differ")
            if module is redis.connection:
                sync = redis.connection.SSLConnection(**ssl_options)
                if sync.cert_reqs != target.tls.verify_mode:
                    found.append("the sync client checks certificates differently")
    return found


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from tests.tls import make_certificates

    return make_certificates(tmp_path_factory.mktemp("urls"))


def test_the_lean_client_reads_every_url_of_the_corpus_as_redis_py_or_declines_it(
    cert_files: dict[str, str],
) -> None:
    served, found = set(), {}
    for template in CORPUS:
        url = template.format(**cert_files)
        target = lean_target(url)
        if target is not None:
            served.add(template)
            problems = disagreements(url, target)
            if problems:
                found[url] = problems
    assert found == {}  # 0 disagreements
    assert served >= SERVED_URLS, SERVED_URLS - served


@pytest.mark.parametrize(
    "url",
    [
        "redis://h/0?socket_timeout=1",
        "redis://h/0?foo=bar",
        "redis://h/1?db=x",
        "redis+sentinel://s:26379/main/0",
        "rediss://h/0?ssl_ca_certs=/nonexistent/ca.pem",
        "rediss://h/0?ssl_cert_reqs=bogus",
    ],
)
def test_urls_the_lean_client_cannot_reproduce_are_left_to_redis_py(url: str) -> None:
    assert lean_target(url) is None


@pytest.mark.parametrize(
    "suffix",
    ["/1?db=2", "/2", "?db=2", "/7?db=2&db=3"],
)
def test_both_clients_count_in_the_database_redis_py_reads(redis_url: str, suffix: str) -> None:
    base = redis_url.rsplit("/", 1)[0]
    url = base + suffix
    key = f"urls:{suffix}"

    async def lean_hit() -> int:
        store = RedisStore(url, timeout=5.0)
        try:
            assert isinstance(await store.async_client(), LeanRedis)
            return (await store.ahit(key, 10, 60, None)).count
        finally:
            await store.aclose()

    sync = RedisStore(url, timeout=5.0)
    try:
        assert asyncio.run(lean_hit()) == 1
        assert sync.hit(key, 10, 60, None).count == 2  # redis-py: the same counter
        assert redis.Redis.from_url(url).llen(f"daf_drf:{key}") == 2
    finally:
        redis.Redis.from_url(url).delete(f"daf_drf:{key}")
        sync.close()


def test_an_empty_password_logs_in_as_redis_py_does(redis_url: str) -> None:
    host_port = redis_url.split("//", 1)[1].rsplit("/", 1)[0]
    url = f"redis://:@{host_port}/0"

    async def check() -> bool:
        store = RedisStore(url, timeout=5.0)
        try:
            return (await store.ahit("urls:empty-password", 10, 60, None)).allowed
        finally:
            await store.aclose()

    try:
        assert asyncio.run(check())  # no `AUTH ""`, which the server would refuse
    finally:
        redis.Redis.from_url(redis_url).delete("daf_drf:urls:empty-password")


def test_a_tls_context_is_built_with_redis_pys_defaults(cert_files: dict[str, str]) -> None:
    target = lean_target("rediss://h:6380/0?ssl_ca_certs={ca}".format(**cert_files))
    assert target is not None
    assert target.tls is not None
    assert target.tls.verify_mode == ssl.CERT_REQUIRED  # never silently unverified


def test_a_url_left_to_redis_py_is_logged_once(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = redis_url + "?socket_keepalive=true"  # an option only redis-py reproduces

    async def twice() -> None:
        store = RedisStore(url, timeout=5.0)
        try:
            for _ in range(2):
                assert isinstance(await store.async_client(), redis.asyncio.Redis)
                await store.aclose()
        finally:
            await store.aclose()

    with caplog.at_level(logging.INFO, logger="daf_drf.throttling"):
        asyncio.run(twice())
    told = [r for r in caplog.records if "use redis.asyncio" in r.getMessage()]
    assert len(told) == 1
