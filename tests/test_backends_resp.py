"""
The lean Redis client of the Redis store (`daf_drf.backends._resp`): its reply parsers, its
URLs, and its behaviour against real redis-servers: pipelining, callers that give up, lost
connections, logins, databases, and a server that stops answering.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

import pytest
import redis

from daf_drf.backends import StoreUnavailable
from daf_drf.backends._resp import (
    LeanRedis,
    ProtocolError,
    RespError,
    Target,
    encode,
    lean_target,
    make_reader,
)
from daf_drf.backends.redis import RedisStore
from tests.support.processes import free_port
from tests.support.redis import BlackHole, command_calls, start_redis, stop_redis

PARSERS = ["python", "auto"]  # "auto" is hiredis: the `test` extra installs it

# --- replies --------------------------------------------------------------------------------

REPLIES: list[tuple[bytes, Any]] = [
    (b":42\r\n", 42),
    (b":-7\r\n", -7),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"+OK\r\n", b"OK"),
    (b"*0\r\n", []),
    (b"*-1\r\n", None),
    (b"$4\r\na\r\nb\r\n", b"a\r\nb"),  # a CRLF inside a bulk string is data
    (
        b"*6\r\n:1\r\n:5\r\n$3\r\n1.5\r\n$3\r\n2.5\r\n$3\r\n2.5\r\n$0\r\n\r\n",
        [1, 5, b"1.5", b"2.5", b"2.5", b""],
    ),
    (b"*2\r\n*1\r\n:1\r\n$-1\r\n", [[1], None]),
]


def read_all(reader: Any) -> list[Any]:
    replies = []
    while (reply := reader.gets()) is not False:
        replies.append(reply)
    return replies


@pytest.mark.parametrize("parser", PARSERS)
def test_every_reply_type_parses(parser: str) -> None:
    reader = make_reader(parser)
    reader.feed(b"".join(wire for wire, _ in REPLIES))
    assert read_all(reader) == [value for _, value in REPLIES]


@pytest.mark.parametrize("parser", PARSERS)
def test_replies_cut_at_every_byte_parse_the_same(parser: str) -> None:
    stream = b"".join(wire for wire, _ in REPLIES)
    reader = make_reader(parser)
    replies = []
    for index in range(len(stream)):
        reader.feed(stream[index : index + 1])
        replies += read_all(reader)
    assert replies == [value for _, value in REPLIES]


@pytest.mark.parametrize("parser", PARSERS)
def test_an_error_reply_is_a_resp_error_value(parser: str) -> None:
    reader = make_reader(parser)
    reader.feed(b"-NOSCRIPT No matching script.\r\n:1\r\n")
    error, number = read_all(reader)
    assert isinstance(error, RespError)
    assert str(error) == "NOSCRIPT No matching script."
    assert number == 1


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize(
    "garbage", [b"?what\r\n", b":12x\r\n", b"$abc\r\n", b"$-5\r\n", b"*-2\r\n"]
)
def test_bytes_that_are_not_resp_are_a_protocol_error(parser: str, garbage: bytes) -> None:
    reader = make_reader(parser)
    reader.feed(garbage)
    with pytest.raises(ProtocolError):
        read_all(reader)


def test_an_unknown_parser_name_fails_when_the_client_is_made() -> None:
    with pytest.raises(ValueError, match="parser"):
        LeanRedis(Target(), timeout=1.0, parser="fast")


def test_commands_are_resp_arrays_of_bulk_strings() -> None:
    assert encode(("SET", "clé", 3, b"\r\n")) == (
        b"*4\r\n$3\r\nSET\r\n$4\r\ncl\xc3\xa9\r\n$1\r\n3\r\n$2\r\n\r\n\r\n"
    )


# --- URLs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("redis://127.0.0.1:6379/0", Target("127.0.0.1", 6379)),
        ("redis://cache", Target("cache", 6379)),
        ("redis://:s%40cret@h:1/3", Target("h", 1, password="s@cret", db=3)),
        ("redis://bob:pw@h:1?db=2", Target("h", 1, username="bob", password="pw", db=2)),
        ("unix:///run/redis.sock?db=4", Target("", 0, path="/run/redis.sock", db=4)),
    ],
)
def test_plain_urls_are_served_by_the_lean_client(url: str, target: Target) -> None:
    assert lean_target(url) == target


@pytest.mark.parametrize(
    "url",
    [
        "redis+sentinel://s:26379/main",
        "redis+cluster://n:6379",
        "redis://h:6379/0?socket_keepalive=true",  # an option only redis-py knows
        "redis://h:6379/1?db=x",  # let redis-py explain what is wrong
    ],
)
def test_other_urls_are_left_to_redis_py(url: str) -> None:
    assert lean_target(url) is None


def test_the_store_picks_the_client_by_url(redis_url: str) -> None:
    async def clients() -> tuple[Any, Any]:
        lean = RedisStore(redis_url, timeout=5.0)
        full = RedisStore(redis_url + "?socket_keepalive=true", timeout=5.0)
        try:
            assert (await lean.ahit("pick", 5, 60, None)).allowed
            assert (await full.ahit("pick", 5, 60, None)).count == 2  # same key, same counts
            return await lean.async_client(), await full.async_client()
        finally:
            await lean.aclose()
            await full.aclose()

    lean_client, full_client = asyncio.run(clients())
    assert isinstance(lean_client, LeanRedis)
    assert isinstance(full_client, redis.asyncio.Redis)
    redis.Redis.from_url(redis_url).delete("daf_drf:pick")


# --- against a real redis-server --------------------------------------------------------------


def target_of(url: str) -> Target:
    target = lean_target(url)
    assert target is not None
    return target


@pytest.fixture(params=PARSERS)
def client_factory(request: pytest.FixtureRequest) -> Any:
    def make(url: str, timeout: float = 5.0) -> LeanRedis:
        return LeanRedis(target_of(url), timeout=timeout, parser=request.param)

    return make


def test_commands_and_error_replies(clean_redis: str, client_factory: Any) -> None:
    async def scenario() -> None:
        client = client_factory(clean_redis)
        try:
            assert await client.execute("SET", "k", "v") == b"OK"
            assert await client.execute("GET", "k") == b"v"
            assert await client.execute("GET", "missing") is None
            with pytest.raises(RespError, match="wrong number of arguments"):
                await client.execute("GET")
            assert await client.execute("PING") == b"PONG"  # still in step after the error
        finally:
            await client.aclose()

    asyncio.run(scenario())


def test_1000_concurrent_commands_share_one_connection_in_order(
    clean_redis: str, client_factory: Any
) -> None:
    raw = redis.Redis.from_url(clean_redis)

    def connected() -> int:
        return int(raw.info("clients")["connected_clients"])

    async def scenario() -> tuple[list[int], int]:
        client = client_factory(clean_redis)
        try:
            replies = await asyncio.gather(*(client.execute("INCR", "n") for _ in range(1000)))
            return replies, connected()
        finally:
            await client.aclose()

    before = connected()
    replies, during = asyncio.run(scenario())
    assert sorted(replies) == list(range(1, 1001))
    assert during == before + 1  # one connection for the 1,000 commands
    raw.close()


def test_a_caller_that_gives_up_leaves_the_connection_in_step(
    clean_redis: str, client_factory: Any
) -> None:
    async def scenario() -> list[Any]:
        client = client_factory(clean_redis)
        try:
            calls = [asyncio.ensure_future(client.execute("ECHO", str(i))) for i in range(50)]
            await asyncio.sleep(0)  # every command is written
            for call in calls[::2]:
                call.cancel()
            kept = await asyncio.gather(*calls[1::2])
            after = await client.execute("ECHO", "after")
            return [*kept, after]
        finally:
            await client.aclose()

    replies = asyncio.run(scenario())
    assert replies == [str(i).encode() for i in range(1, 50, 2)] + [b"after"]


def test_a_lost_connection_fails_pending_calls_and_the_next_call_reconnects(
    client_factory: Any,
) -> None:
    port = free_port()
    server = start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"

    async def scenario() -> None:
        nonlocal server
        client = client_factory(url)
        try:
            assert await client.execute("PING") == b"PONG"
            # BLPOP waits on the server; killing the server loses the connection under it.
            waiting = asyncio.ensure_future(client.execute("BLPOP", "never", 0))
            await asyncio.sleep(0.1)
            await asyncio.to_thread(stop_redis, server)
            with pytest.raises(ConnectionError):
                await waiting
            with pytest.raises(ConnectionRefusedError):  # while the server is down
                await client.execute("PING")
            server = await asyncio.to_thread(start_redis, port)
            assert await client.execute("PING") == b"PONG"
        finally:
            await client.aclose()

    try:
        asyncio.run(scenario())
    finally:
        stop_redis(server)


def test_password_user_and_database_from_the_url(client_factory: Any) -> None:
    port = free_port()
    server = start_redis(
        port, "--requirepass", "s3cret", "--user", "bob", "on", ">pw", "~*", "&*", "+@all"
    )
    try:

        async def scenario() -> None:
            for url in (
                f"redis://:s3cret@127.0.0.1:{port}/3",
                f"redis://bob:pw@127.0.0.1:{port}/3",
            ):
                client = client_factory(url)
                try:
                    await client.execute("SET", "where", url)
                finally:
                    await client.aclose()
            wrong = client_factory(f"redis://:nope@127.0.0.1:{port}/0")
            try:
                with pytest.raises(RespError, match=r"WRONGPASS|invalid"):
                    await wrong.execute("PING")
            finally:
                await wrong.aclose()

        asyncio.run(scenario())
        check = redis.Redis(port=port, password="s3cret", db=3)
        assert check.get("where") == f"redis://bob:pw@127.0.0.1:{port}/3".encode()
        assert redis.Redis(port=port, password="s3cret", db=0).get("where") is None
        check.close()
    finally:
        stop_redis(server)


def test_a_wrong_password_is_an_outage_of_the_store() -> None:
    port = free_port()
    server = start_redis(port, "--requirepass", "s3cret")
    store = RedisStore(f"redis://:nope@127.0.0.1:{port}/0", timeout=1.0)
    try:
        with pytest.raises(StoreUnavailable):
            asyncio.run(store.ahit("k", 3, 60, None))
    finally:
        store.close()
        stop_redis(server)


# --- bounded --------------------------------------------------------------------------------


def test_a_server_that_never_answers_fails_the_call_within_the_timeout(
    black_hole: BlackHole, client_factory: Any
) -> None:
    async def scenario() -> float:
        client = client_factory(black_hole.url, timeout=0.2)
        started = time.monotonic()
        try:
            with pytest.raises(ConnectionError, match="no answer"):
                await client.execute("PING")
            return time.monotonic() - started
        finally:
            await client.aclose()

    waited = asyncio.run(scenario())
    # The timeout of responsive waiting, plus at most one watchdog tick; the upper bound is
    # loose because a loaded machine may deschedule this process.
    assert 0.2 <= waited < 1.5


def test_a_server_that_stops_answering_is_dropped_then_reconnected(client_factory: Any) -> None:
    port = free_port()
    server = start_redis(port, "--enable-debug-command", "yes")
    url = f"redis://127.0.0.1:{port}/0"

    async def scenario() -> None:
        client = client_factory(url, timeout=0.2)
        other = client_factory(url)
        try:
            assert await client.execute("PING") == b"PONG"
            # Another connection keeps the single-threaded server busy for 1 s.
            sleeping = asyncio.ensure_future(other.execute("DEBUG", "SLEEP", "1"))
            await asyncio.sleep(0.05)
            started = time.monotonic()
            with pytest.raises(ConnectionError, match="no answer"):
                await client.execute("PING")
            assert time.monotonic() - started < 0.9  # not held until the server woke up
            await sleeping
            assert await client.execute("PING") == b"PONG"  # a new connection
        finally:
            await client.aclose()
            await other.aclose()

    try:
        asyncio.run(scenario())
    finally:
        stop_redis(server)


def test_a_busy_loop_does_not_drop_an_answered_command(
    clean_redis: str, client_factory: Any
) -> None:
    # The reply arrives while the loop is blocked for longer than the timeout: the watchdog
    # counts only time the loop was free to read it, so the call succeeds.
    async def scenario() -> Any:
        client = client_factory(clean_redis, timeout=0.1)
        try:
            await client.execute("PING")  # connected
            call = asyncio.ensure_future(client.execute("ECHO", "late"))
            await asyncio.sleep(0)  # written
            time.sleep(0.5)  # noqa: ASYNC251 - the loop is stuck, as under a CPU-bound burst
            return await call
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == b"late"


# --- the store's batch ----------------------------------------------------------------------


def test_several_checks_make_one_round_trip_and_see_each_other(clean_redis: str) -> None:
    store = RedisStore(clean_redis, timeout=5.0, key_prefix="t:")

    async def scenario() -> list[list[Any]]:
        try:
            await store.ahit("warm", 1, 60, None)
            with redis.Redis.from_url(clean_redis) as raw:
                raw.config_resetstat()
            batches = []
            for _ in range(4):
                decisions = await store.ahit_many(
                    [("a", 3, 60, None), ("b", 2, 60, None), ("a", 3, 60, None)]
                )
                batches.append([(d.allowed, d.count) for d in decisions])
            return batches
        finally:
            await store.aclose()

    batches = asyncio.run(scenario())
    # In order, atomically: the third check of "a" sees the first one of the same batch.
    assert batches == [
        [(True, 1), (True, 1), (True, 2)],
        [(True, 3), (True, 2), (False, 3)],
        [(False, 3), (False, 2), (False, 3)],
        [(False, 3), (False, 2), (False, 3)],
    ]
    stats = command_calls(clean_redis)
    assert stats["evalsha"] == 4  # one per batch
    store.close()


def test_checks_with_their_own_clocks_in_one_batch(clean_redis: str) -> None:
    store = RedisStore(clean_redis, timeout=5.0, key_prefix="t:")

    async def scenario() -> list[Any]:
        try:
            return await store.ahit_many([("x", 5, 60, 1000.5), ("y", 5, 60, None)])
        finally:
            await store.aclose()

    injected, server = asyncio.run(scenario())
    assert injected.now == 1000.5
    assert abs(server.now - time.time()) < 5  # the server's clock (TIME)
    store.close()


def test_a_store_outage_fails_the_whole_batch(black_hole: BlackHole) -> None:
    store = RedisStore(black_hole.url, timeout=0.2)
    with pytest.raises(StoreUnavailable):
        asyncio.run(store.ahit_many([("a", 3, 60, None), ("b", 3, 60, None)]))
    store.close()


def test_a_failed_connect_nobody_waits_for_is_not_logged_as_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario() -> None:
        client = LeanRedis(Target(port=free_port()), timeout=1.0)
        call = asyncio.ensure_future(client.execute("PING"))
        await asyncio.sleep(0)  # the connect task is started
        call.cancel()  # its only caller goes away; the connect then fails (refused)
        await asyncio.sleep(0.2)
        await client.aclose()

    with caplog.at_level(logging.ERROR, logger="asyncio"):
        asyncio.run(scenario())
        gc.collect()
    assert not [r for r in caplog.records if "never retrieved" in r.getMessage()]
