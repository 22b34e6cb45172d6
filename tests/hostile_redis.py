"""
A fake Redis server that answers every command with hostile RESP.

A real asyncio TCP server on 127.0.0.1, on its own event loop in its own thread. What it answers
is picked by the key of each command it receives: a check of key `hostile:<case>` gets the
reply of `CASES[case]`, which either writes a fixed reply (and the next command gets it again),
or streams without end (until the client goes away).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable
from typing import Any

Case = Callable[[asyncio.StreamWriter], Awaitable[None]]


def _fixed(reply: bytes) -> Case:
    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(reply)
        await writer.drain()

    return answer


def _stream(head: bytes, unit: bytes, *, pause: float = 0.0) -> Case:
    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(head)
        chunk = unit * max(1, 16384 // len(unit)) if not pause else unit
        while True:  # until the client goes away (drain raises)
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(pause)

    return answer


def _bulk(*items: bytes) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(b"$%d\r\n%b\r\n" % (len(i), i) for i in items)


GOOD = [
    b":1\r\n",
    b":1\r\n",
    b"$4\r\n10.5\r\n",
    b"$4\r\n10.5\r\n",
    b"$4\r\n10.5\r\n",
    b"$0\r\n\r\n",
]

# Replies of the wrong shape: complete, well-formed RESP, but not what the script returns.
WRONG_SHAPES: dict[str, bytes] = {
    "good": b"*6\r\n" + b"".join(GOOD),  # the script's reply: not wrong, for reference
    "integer": b":1\r\n",
    "nil": b"$-1\r\n",
    "nil_array": b"*-1\r\n",
    "ok": b"+OK\r\n",
    "empty_array": b"*0\r\n",
    "five_items": b"*5\r\n" + b"".join(GOOD[:5]),
    "seven_items": b"*7\r\n" + b"".join(GOOD) + b":1\r\n",
    "words": _bulk(b"yes", b"many", b"a", b"b", b"c", b"d"),
    "allowed_is_two": b"*6\r\n:2\r\n" + b"".join(GOOD[1:]),
    "count_negative": b"*6\r\n:1\r\n:-3\r\n" + b"".join(GOOD[2:]),
    "count_as_text": b"*6\r\n:1\r\n$1\r\n1\r\n" + b"".join(GOOD[2:]),
    "now_infinite": b"*6\r\n:1\r\n:1\r\n$0\r\n\r\n$0\r\n\r\n$3\r\ninf\r\n$0\r\n\r\n",
    "now_empty": b"*6\r\n:1\r\n:1\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n$0\r\n\r\n",
    "now_nil": b"*6\r\n:1\r\n:1\r\n$0\r\n\r\n$0\r\n\r\n$-1\r\n$0\r\n\r\n",
    "nested": b"*6\r\n*1\r\n:1\r\n" + b"".join(GOOD[1:]),
    "error_reply": b"-ERR the proxy says no\r\n",
}

# Replies that are not RESP2, too big, too deep or endless.
HOSTILE: dict[str, Case] = {
    "huge_bulk": _stream(b"$999999999\r\n", b"x"),
    "huge_array": _stream(b"*2147483647\r\n", b":1\r\n"),
    "endless_bulk": _stream(b"$65000\r\n", b"y", pause=0.001),  # within the caps, slow
    "big_array_trickle": _stream(b"*9999\r\n", b":1\r\n:1\r\n", pause=0.0005),
    "endless_line": _stream(b"+", b"a"),
    "many_bulks": _stream(b"*9999\r\n", b"$60000\r\n" + b"z" * 60000 + b"\r\n"),
    "endless_array_items": _stream(b"*6\r\n", b":1\r\n"),
    "deep": _stream(b"", b"*1\r\n"),
    "long_integer": _fixed(b":" + b"9" * 5000 + b"\r\n"),
    "not_resp": _fixed(b"?what\r\n"),
    "resp3_map": _fixed(b"%1\r\n+a\r\n:1\r\n"),
    "bulk_without_crlf": _fixed(b"$3\r\nabcXY"),
    "drip": _stream(b"*6\r\n:1\r\n", b":", pause=0.05),
}

GOOD_REPLY = WRONG_SHAPES.pop("good")
CASES: dict[str, Case] = {
    "good": _fixed(GOOD_REPLY),
    **{k: _fixed(v) for k, v in WRONG_SHAPES.items()},
    **HOSTILE,
}
_KEY = re.compile(rb"hostile:(\w+)")


class HostileRedis:
    """`with HostileRedis() as server:` serves on `server.url` until the block ends."""

    def __init__(self) -> None:
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Future[None] | None = None
        self._thread = threading.Thread(target=self._run, name="hostile-redis", daemon=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> HostileRedis:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile Redis server did not start")
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._loop.call_soon_threadsafe(lambda: self._stop and self._stop.set_result(None))
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        tasks: set[asyncio.Task[None]] = set()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                received = b""
                while True:  # answer every command (a fixed reply leaves the connection open)
                    while not (match := _KEY.search(received)):
                        data = await reader.read(65536)
                        if not data:
                            return
                        received += data
                    received = received[match.end() :]
                    await CASES[match[1].decode()](writer)
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._stop = asyncio.get_running_loop().create_future()
        self._ready.set()
        async with server:
            await self._stop
            for task in list(tasks):
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
