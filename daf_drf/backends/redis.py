"""
`redis://`, `rediss://`, `unix://`, `redis+sentinel://` and `redis+cluster://`: the shared store.

Each check is one `EVALSHA` of `scripts/sliding_log.lua` (falling back to `EVAL` when the
server answers `NOSCRIPT`, e.g. after a restart): one round trip, atomic on the server.
Valkey speaks the same protocol and works with the same URLs.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import threading
import weakref
from collections.abc import AsyncGenerator, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import redis
import redis.asyncio as aredis
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError
from redis.retry import Retry

from daf_drf.backends import _redis_client
from daf_drf.backends._deadline import store_deadline
from daf_drf.backends._redis_client import RedisPyAsync, SyncClient, redact
from daf_drf.backends._resp import LeanRedis, RespError, lean_target
from daf_drf.backends.base import Check, Decision, OutageLog, Store, StoreUnavailable, logger

__all__ = ["RedisStore", "UnexpectedReply"]

SCRIPT = (Path(__file__).parent / "scripts" / "sliding_log.lua").read_text()
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()  # Redis names scripts by SHA1

# On the loop: daf_drf's lean client, or redis-py's where the lean one can't reproduce the URL.
AsyncClient = LeanRedis | RedisPyAsync


class UnexpectedReply(Exception):
    """The store answered, but not with what the script returns: a store failure."""


# The errors a store can raise: the server down, refusing, slow, overloaded or answering
# nonsense (`RedisError`, which includes redis-py's `ConnectionError`, `TimeoutError`,
# `MaxConnectionsError` and error replies; `OSError`, which includes the builtin
# `ConnectionError` and `TimeoutError`, `ssl.SSLError` and the lean client's `ProtocolError`;
# the lean client's error replies; a reply of the wrong shape). Anything else is a bug, in
# daf_drf or in a client library, and surfaces as one (a 500), whatever THROTTLE_FAILURE says.
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    redis.RedisError,
    OSError,
    RespError,
    UnexpectedReply,
)

_FIELDS = 6  # allowed, count, oldest, newest, now, admit_at: one check's reply


def _number(value: object) -> float:
    # The script sends its numbers as text.
    if isinstance(value, bytes):
        try:
            number = float(value)
        except ValueError:
            pass
        else:
            if math.isfinite(number):
                return number
    raise UnexpectedReply(f"{value!r:.40} is not a number")


def _entry(value: object) -> float | None:
    return None if value == b"" else _number(value)  # b"": the history has no such entry


def _integer(value: object, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise UnexpectedReply(f"{value!r:.40} is not an integer from {low} to {high}")
    return value


def _decode(reply: object, checks: Sequence[Check]) -> list[Decision]:
    """The decisions of a reply to `checks`; `UnexpectedReply` if it is not the script's."""
    if not isinstance(reply, list) or len(reply) != _FIELDS * len(checks):
        shape = f"{len(reply)} items" if isinstance(reply, list) else f"{reply!r:.40}"
        raise UnexpectedReply(f"expected {_FIELDS * len(checks)} items, got {shape}")
    decisions = []
    for index in range(len(checks)):
        allowed, count, oldest, newest, now, admit = reply[_FIELDS * index : _FIELDS * index + 6]
        decisions.append(
            Decision(
                allowed=bool(_integer(allowed, 0, 1)),
                now=_number(now),
                # More than the limit when the rate was lowered since the history was written.
                count=_integer(count, 0, 2**53),
                oldest=_entry(oldest),
                newest=_entry(newest),
                admit_at=_entry(admit),
            )
        )
    return decisions


async def _close_with_loop(
    client: AsyncClient, forget: Callable[[], None]
) -> AsyncGenerator[None, None]:
    # An async generator the loop knows about: `asyncio.run()` (and asgiref, uvicorn,
    # pytest-asyncio) close it in `shutdown_asyncgens()` while the loop still runs, which is
    # the last moment this loop's sockets can be closed cleanly. `forget` drops the store's
    # per-loop entries: they refer to the loop, so a weak mapping alone would keep it alive.
    try:
        yield
    finally:
        forget()
        await client.aclose()
        for helper in getattr(client, "daf_drf_helpers", ()):
            await helper.aclose()


class RedisStore(Store):
    """
    DRF's sliding-window log in Redis, checked by one atomic server-side script.

    Guarantees:

    - Exact: at most `num_requests` admitted per `duration` for a key, under any concurrency,
      across processes and hosts sharing the server.
    - One round trip per check; every key carries a TTL of `duration` (refreshed on each
      admitted request) and holds at most `num_requests` timestamps.
    - Bounded: every check finishes within `timeout` seconds or raises `StoreUnavailable`
      (async: one deadline around the whole call; sync: connect, pool wait and read each bounded
      by `timeout`). redis-py's retries are off, so the bound holds.
    - The async client is bound to the running event loop: one client and pool per loop,
      closed when the loop shuts down. The sync client is shared by the process's threads.

    Usage:

        DAF_DRF = {"THROTTLE_STORE": "redis://127.0.0.1:6379/0"}
        DAF_DRF = {"THROTTLE_STORE": "redis+sentinel://s1:26379,s2:26379/mymaster/0"}
        DAF_DRF = {"THROTTLE_STORE": "redis+cluster://node1:6379"}
    """

    # Checks without an injected timer use the server's clock (`TIME`).
    has_clock = True

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 50,
        timeout: float = 0.5,
        key_prefix: str = "daf_drf:",
        parser: str = "auto",
    ) -> None:
        self.url = url
        self.parser = parser  # the lean client's: "auto" (hiredis when installed) or "python"
        self.pool_size = pool_size
        self.timeout = timeout
        self.key_prefix = key_prefix
        self.name = redact(url)
        self.outage = OutageLog(self.name)
        self._told = False  # whether the hand-over to redis.asyncio was logged
        self._sync: SyncClient | None = None
        self._sync_lock = threading.Lock()
        self._sync_gate = threading.BoundedSemaphore(pool_size)
        self._gates: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        self._clients: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop,
            tuple[AsyncClient, AsyncGenerator[None, None], asyncio.Future[None] | None],
        ] = weakref.WeakKeyDictionary()

    # --- the check ---------------------------------------------------------------------

    def _args(self, num_requests: int, duration: int, now: float | None) -> list[int | str]:
        return [num_requests, duration, "" if now is None else repr(float(now))]

    def hit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        client = self.sync_client()
        keys, args = [self.key_prefix + key], self._args(num_requests, duration, now)
        # Cluster and Sentinel pools raise MaxConnectionsError when exhausted instead of
        # waiting: the gate makes every kind of client wait (up to the timeout) for a slot.
        if not self._sync_gate.acquire(timeout=self.timeout):
            exc = TimeoutError(f"no free connection within {self.timeout}s")
            self.outage.failed(exc)
            raise StoreUnavailable(str(exc))
        try:
            try:
                reply = client.evalsha(SCRIPT_SHA, 1, *keys, *args)
            except NoScriptError:
                reply = client.eval(SCRIPT, 1, *keys, *args)
            decision = _decode(reply, [(key, num_requests, duration, now)])[0]
        except OUTAGE_ERRORS as exc:
            self.outage.failed(exc)
            raise StoreUnavailable(str(exc) or type(exc).__name__) from exc
        finally:
            self._sync_gate.release()
        self.outage.succeeded()
        return decision

    async def ahit(self, key: str, num_requests: int, duration: int, now: float | None) -> Decision:
        return (await self.ahit_many([(key, num_requests, duration, now)]))[0]

    async def ahit_many(self, checks: Sequence[Check]) -> list[Decision]:
        """
        Several checks in one round trip (every throttle of a request), applied in order and
        atomically together. On Cluster, whose scripts cannot span hash slots, one per check.
        Raises `StoreUnavailable` for the whole batch.
        """
        keys = [self.key_prefix + check[0] for check in checks]
        args = [arg for _, num, duration, now in checks for arg in self._args(num, duration, now)]
        entry = self._clients.get(asyncio.get_running_loop())
        client = entry[0] if entry is not None and entry[2] is None else None  # ready
        try:
            if client is None:
                async with store_deadline(self.timeout):
                    client = await self.async_client()
            if isinstance(client, LeanRedis):
                # Bounded by the connection's watchdog: no timer per check (see `_resp`).
                try:
                    reply = await client.execute("EVALSHA", SCRIPT_SHA, len(keys), *keys, *args)
                except RespError as exc:
                    if not str(exc).startswith("NOSCRIPT"):
                        raise
                    reply = await client.execute("EVAL", SCRIPT, len(keys), *keys, *args)
                decisions = _decode(reply, checks)
            else:
                async with store_deadline(self.timeout):
                    if len(keys) > 1 and isinstance(client, aredis.cluster.RedisCluster):
                        decisions = []
                        for index, key in enumerate(keys):
                            reply = await self._redis_py_eval(
                                client, [key], args[3 * index : 3 * index + 3]
                            )
                            decisions += _decode(reply, checks[index : index + 1])
                    else:
                        reply = await self._redis_py_eval(client, keys, args)
                        decisions = _decode(reply, checks)
        except OUTAGE_ERRORS as exc:
            self.outage.failed(exc)
            raise StoreUnavailable(str(exc) or type(exc).__name__) from exc
        self.outage.succeeded()
        return decisions

    async def _redis_py_eval(
        self, client: RedisPyAsync, keys: list[str], args: list[int | str]
    ) -> object:
        async with self._gate():  # see `hit`: every client queues for a connection
            try:
                return await client.evalsha(SCRIPT_SHA, len(keys), *keys, *args)
            except NoScriptError:
                return await client.eval(SCRIPT, len(keys), *keys, *args)

    # --- clients -----------------------------------------------------------------------

    def _options(self, *, asyncio_: bool = False) -> dict[str, Any]:
        # The async client has no timeouts of its own: redis-py implements them with asyncio
        # timers, which a busy loop trips while the reply is already in the socket buffer.
        # `store_deadline` around the whole call (pool wait, connect, round trip) bounds it.
        timeout = None if asyncio_ else self.timeout
        return {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            # redis-py's async clients take their own `Retry` class (8.2 warns about, and
            # converts, a sync one); 0 retries either way, so the deadline holds.
            "retry": (AsyncRetry if asyncio_ else Retry)(NoBackoff(), 0),
        }

    def sync_client(self) -> SyncClient:
        """The process's sync client (thread-safe, created on first use)."""
        if self._sync is None:
            with self._sync_lock:
                if self._sync is None:
                    self._sync = _redis_client.sync_client(
                        self.url, self.pool_size, self.timeout, self._options()
                    )
        return self._sync

    async def async_client(self) -> AsyncClient:
        """The client of the running event loop, created on first use in that loop."""
        loop = asyncio.get_running_loop()
        entry = self._clients.get(loop)
        if entry is None:
            target = lean_target(self.url)
            if target is None and not self._told:
                self._told = True
                logger.info(
                    "daf_drf: throttle store %s: async checks use redis.asyncio, because daf_drf's "
                    "own client does not reproduce every part of this URL (see Throttling in "
                    "the docs).",
                    self.name,
                )
            client = (
                LeanRedis(target, timeout=self.timeout, parser=self.parser)
                if target is not None
                else _redis_client.async_client(
                    self.url, self.pool_size, self._options(asyncio_=True)
                )
            )
            closer = _close_with_loop(client, partial(self._forget, loop))
            ready: asyncio.Future[None] = loop.create_future()
            entry = (client, closer, ready)
            self._clients[loop] = entry
            await closer.__anext__()
            try:
                if isinstance(client, aredis.cluster.RedisCluster):
                    # Discover the slots once, before concurrent commands race to do it.
                    await client.initialize()
            finally:
                ready.set_result(None)
                if self._clients.get(loop) is entry:
                    self._clients[loop] = (client, closer, None)  # the future holds the loop
            return client
        if entry[2] is not None and not entry[2].done():
            await asyncio.shield(entry[2])
        return entry[0]

    def _forget(self, loop: asyncio.AbstractEventLoop) -> None:
        self._clients.pop(loop, None)
        self._gates.pop(loop, None)

    def _gate(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.pool_size)
        return gate

    async def aclose(self) -> None:
        """Close the running loop's client now (it is otherwise closed with the loop)."""
        entry = self._clients.get(asyncio.get_running_loop())
        if entry is not None:
            await entry[1].aclose()  # runs `_forget` for this loop

    def close(self) -> None:
        """Close the sync client's connections."""
        with self._sync_lock:
            client, self._sync = self._sync, None
        if client is not None:
            client.close()
            for helper in getattr(client, "daf_drf_helpers", ()):
                helper.close()
