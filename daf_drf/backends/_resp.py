"""
A lean asyncio client for the one command a throttle check sends.

redis-py's async client spends 90 to 200 µs of CPU on each command (pool checkout, command
packing, response callbacks, its observability hooks): as much as the rest of a daf_drf
request served by `daf_drf.asgi`. A check needs one thing: write an `EVALSHA`, read one reply.
This client does exactly that, over one connection per event loop, pipelined: concurrent
checks write their commands back to back, and the replies, which Redis sends in the order it
received the commands, are handed to the callers first in, first out.

It speaks RESP2 to `redis://`, `rediss://` (TLS) and `unix://` URLs, read by redis-py's own
URL parser: the server, user name, password, database and TLS options. Sentinel, Cluster and
the rest of redis-py's URL options keep redis-py (`RedisStore` picks; see `_resp_url`).

Guarantees:

- A caller that gives up (its request was cancelled) leaves the
  connection in step: its reply is still read, then dropped.
- A lost connection fails every pending call with `ConnectionError`; the next call reconnects.
- Whatever the server sends, a reply past the bounds of `_resp_reader` (size, length
  headers, nesting) or bytes that are not RESP2 abort the connection: its pending calls fail
  with `ProtocolError`, a `ConnectionError`.
- Bounded: a command unanswered for `timeout` seconds of responsive time aborts the
  connection, failing every pending call (see `_Connection`); connecting and logging in have
  the same bound.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Any, cast

from daf_drf.backends._deadline import CAP, LAG, TICKS, store_deadline
from daf_drf.backends._resp_reader import (
    ProtocolError,
    PyReader,
    ReplyGuard,
    RespError,
    make_reader,
)
from daf_drf.backends._resp_url import Target, lean_target

__all__ = [
    "LeanRedis",
    "ProtocolError",
    "PyReader",
    "RespError",
    "Target",
    "encode",
    "lean_target",
    "make_reader",
]


def encode(args: tuple[Any, ...]) -> bytes:
    """One command as a RESP array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode()
        elif not isinstance(arg, bytes):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%b\r\n" % (len(arg), arg))
    return b"".join(out)


class _Connection(asyncio.Protocol):
    """
    The connection, its FIFO of unanswered commands, and the watchdog that bounds them.

    The watchdog replaces a timer per command (which costs more than the rest of the client
    under load). One timer per connection ticks while commands are unanswered and keeps a
    clock of responsive time, as `store_deadline` does: a tick on time adds the time since
    the previous tick, a late one (the loop was busy, the reply may sit in the socket buffer)
    adds nothing. Replies come in order, so if the oldest unanswered command has waited
    `timeout` of responsive time (or `CAP` times that of wall time), the server stopped
    answering: the connection is aborted and every pending call fails.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, reader: Any, timeout: float) -> None:
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        # (waiter, responsive clock when sent, loop time when sent), oldest first.
        self.pending: collections.deque[tuple[asyncio.Future[Any], float, float]] = (
            collections.deque()
        )
        self.reader = reader
        self.guard = ReplyGuard()
        # Commands written in one turn of the loop leave in one `send()`: under load the
        # syscall, not the command, is what costs.
        self.outbox: list[bytes] = []
        self.closed = False
        self.lost: asyncio.Future[None] = loop.create_future()
        self.timeout = timeout
        self.interval = timeout / TICKS
        self.lag = max(LAG, self.interval)
        self.clock = 0.0  # responsive time counted by the watchdog
        self.ticked = 0.0  # loop time of the watchdog's last tick
        self.watchdog: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # `create_connection` makes a stream transport (plain or TLS): a `Transport`.
        self.transport = cast(asyncio.Transport, transport)

    def send(self, data: bytes) -> asyncio.Future[Any]:
        if self.closed or self.transport is None:
            raise ConnectionError("the connection to Redis is closed")
        loop = self.loop
        waiter = loop.create_future()
        if not self.outbox:
            loop.call_soon(self._flush)
        self.outbox.append(data)
        now = loop.time()
        if self.watchdog is None:
            self.ticked = now
            self.watchdog = loop.call_at(now + self.interval, self._tick, now + self.interval)
        self.pending.append((waiter, self.clock + (now - self.ticked), now))
        return waiter

    def _tick(self, due: float) -> None:
        now = self.loop.time()
        if now - due <= self.lag:
            self.clock += now - self.ticked
        self.ticked = now
        self.watchdog = None
        if self.closed or not self.pending:
            return  # idle: the next command starts the watchdog again
        _, sent_clock, sent_at = self.pending[0]
        if self.clock - sent_clock >= self.timeout or now - sent_at >= CAP * self.timeout:
            self.abort(TimeoutError(f"no answer from Redis within {self.timeout}s"))
            return
        self.watchdog = self.loop.call_at(now + self.interval, self._tick, now + self.interval)

    def _flush(self) -> None:
        outbox, self.outbox = self.outbox, []
        if self.transport is not None and not self.closed:
            self.transport.write(b"".join(outbox))

    def data_received(self, data: bytes) -> None:
        if self.closed:
            return
        reader, pending = self.reader, self.pending
        try:
            self.guard.screen(data)  # before the parser allocates anything for it
            reader.feed(data)
            while (reply := reader.gets()) is not False:
                self.guard.replied()
                if not pending:
                    raise ProtocolError("Redis sent a reply nobody asked for")
                waiter = pending.popleft()[0]
                if not waiter.done():  # a caller that gave up: its reply is dropped
                    waiter.set_result(reply)
        except ProtocolError as exc:
            self.abort(exc)

    def abort(self, exc: BaseException | None = None) -> None:
        self._fail(exc)
        if self.transport is not None:
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc)
        if not self.lost.done():
            self.lost.set_result(None)

    def _fail(self, exc: BaseException | None) -> None:
        self.closed = True
        # What the parser buffered goes now, not when the cycles through the transport are
        # collected: a reconnect must not hold two replies' worth of a hostile server's bytes.
        self.reader = None
        self.guard = ReplyGuard()
        if self.watchdog is not None:
            self.watchdog.cancel()
            self.watchdog = None
        while self.pending:
            waiter = self.pending.popleft()[0]
            if not waiter.done():
                error = ConnectionError(f"the connection to Redis was lost ({exc or 'closed'})")
                waiter.set_exception(error)


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


class LeanRedis:
    """
    One pipelined connection to a Redis server, for the event loop it is first used on.

    `await client.execute("EVALSHA", sha, 1, key, ...)` returns the reply (`int`, `bytes`,
    `None` or a list of those) and raises `RespError` for an error reply, and
    `ConnectionError`, `OSError` or `TimeoutError` when the server cannot be reached or does
    not answer within `timeout` (connecting and logging in included; see `_Connection` for how
    an unanswered command is bounded).
    """

    def __init__(self, target: Target, *, timeout: float, parser: str = "auto") -> None:
        make_reader(parser)  # a wrong name fails here, not on first use
        self.target = target
        self.timeout = timeout
        self.parser = parser
        self._conn: _Connection | None = None
        self._connecting: asyncio.Task[_Connection] | None = None

    async def execute(self, *args: Any) -> Any:
        conn = self._conn
        if conn is None or conn.closed:
            conn = await self._connected()
        reply = await conn.send(encode(args))
        if isinstance(reply, RespError):
            raise reply
        return reply

    async def _connected(self) -> _Connection:
        task = self._connecting
        if task is None or task.done():
            # A task of its own: a caller that is cancelled does not abort the connect that
            # other callers are waiting on.
            task = self._connecting = asyncio.get_running_loop().create_task(self._connect())
            # Its callers may all have been cancelled: the failure is theirs to see, not the
            # loop's "exception was never retrieved" log.
            task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        target = self.target
        conn = _Connection(loop, make_reader(self.parser), self.timeout)
        try:
            async with store_deadline(self.timeout):
                if target.path is not None:
                    await loop.create_unix_connection(lambda: conn, target.path)
                else:
                    await loop.create_connection(
                        lambda: conn, target.host, target.port, ssl=target.tls
                    )
                handshake = []
                login = target.login()
                if login is not None:
                    handshake.append(conn.send(encode(("AUTH", *login))))
                if target.db:
                    handshake.append(conn.send(encode(("SELECT", target.db))))
                for waiter in handshake:
                    reply = await waiter
                    if isinstance(reply, RespError):
                        raise reply
        except BaseException:
            conn.abort()
            raise
        self._conn = conn
        return conn

    async def aclose(self) -> None:
        """Close the connection and wait until it is closed."""
        conn, self._conn = self._conn, None
        task, self._connecting = self._connecting, None
        if task is not None and not task.done():
            task.cancel()
            # A cancelled connect aborts what it opened (see `_connect`).
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if conn is not None and conn.transport is not None:
            conn._fail(None)
            conn.transport.close()
            await conn.lost
