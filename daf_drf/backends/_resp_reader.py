"""
Reading RESP2 replies for the lean client, within bounds a hostile server cannot move.

A throttle check's reply is six short items per check. Whatever a server (or a proxy in
front of it) sends instead must fail the check as a store failure, quickly and in bounded
memory, never make the worker allocate what a length header asks for or spend time
quadratic in what it sends. The bounds:

- `MAX_REPLY`: bytes buffered for one reply that has not ended yet (see `ReplyGuard`). A
  hostile server can make a connection hold at most about 1.6 times that (hiredis grows its
  buffer by doubling up to 1 MiB, then by 1 MiB), never what a header announces.
- `MAX_ITEMS` per array and `MAX_BULK` bytes per bulk string: checked on the length header,
  before any parser allocates anything for it (hiredis would size a list from the header).
- `MAX_DEPTH` of nested arrays (hiredis has a smaller limit of its own).

`PyReader` parses incrementally: bytes already parsed are never parsed again, so its work is
linear in the bytes received however the server slices them.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "MAX_BULK",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_REPLY",
    "ProtocolError",
    "PyReader",
    "ReplyGuard",
    "RespError",
    "make_reader",
]

MAX_REPLY = 2 << 20
MAX_ITEMS = 10_000
MAX_BULK = 1 << 16
MAX_DEPTH = 4

CRLF = b"\r\n"


class RespError(Exception):
    """An error reply from the server (`-ERR ...`, `-NOSCRIPT ...`)."""


class ProtocolError(ConnectionError):
    """The server sent bytes that are not RESP2, or a reply past the client's bounds."""


# A length header (of any RESP2 or RESP3 aggregate or blob type) at the start of a line, with
# five digits or more: only those can exceed MAX_ITEMS or MAX_BULK.
_LONG_HEADER = re.compile(rb"\n([*$%~>|=!])(\d{5,})")
_AGGREGATES = frozenset(b"*%~>|")


class ReplyGuard:
    """
    Screens the bytes of a connection before they reach the parser (hiredis or `PyReader`).

    `screen(data)` raises `ProtocolError` for a length header over the limits, and for more
    than `MAX_REPLY` bytes received since the last complete reply (`replied()` resets that).
    A header split across two reads is still seen: the tail of the previous read is kept.
    """

    __slots__ = ("_pending", "_tail")

    def __init__(self) -> None:
        self._tail = b"\n"  # the stream starts at the start of a line
        self._pending = 0

    def screen(self, data: bytes) -> None:
        self._pending += len(data)
        if self._pending > MAX_REPLY:
            raise ProtocolError(f"a reply from Redis is longer than {MAX_REPLY} bytes")
        # The seam with the previous read, then the read itself (no copy of the whole read).
        self._check(self._tail + data[:24])
        self._check(data)
        self._tail = data[-24:] if len(data) >= 24 else (self._tail + data)[-24:]

    @staticmethod
    def _check(window: bytes) -> None:
        for match in _LONG_HEADER.finditer(window):
            kind, digits = match[1][0], match[2]
            limit = MAX_ITEMS if kind in _AGGREGATES else MAX_BULK
            if len(digits) > 7 or int(digits) > limit:
                raise ProtocolError(
                    f"a reply from Redis announces {digits[:12].decode()} "
                    f"{'items' if kind in _AGGREGATES else 'bytes'} (at most {limit})"
                )

    def replied(self) -> None:
        self._pending = 0


class PyReader:
    """
    The reply parser in Python, with hiredis's `Reader` interface: `feed(bytes)`, then
    `gets()` until it returns `False` (no complete reply buffered).

    Incremental: the arrays being filled are kept on a stack, and the search for the end of
    a line resumes where the previous search stopped.
    """

    __slots__ = ("_buf", "_pos", "_scan", "_stack")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0  # start of the first item not parsed yet
        self._scan = 0  # where the search for that item's CRLF resumes
        self._stack: list[list[Any]] = []  # [items still expected, items so far]

    def feed(self, data: bytes) -> None:
        buf, pos = self._buf, self._pos
        if pos and pos * 2 >= len(buf):  # drop what was parsed (amortized linear)
            del buf[:pos]
            self._scan -= pos
            self._pos = 0
        buf += data

    def gets(self) -> Any:
        try:
            return self._gets()
        except ValueError as exc:  # int() of a length or an integer that is not a number
            raise ProtocolError(f"malformed reply from Redis: {exc}") from None

    def _gets(self) -> Any:
        buf, stack = self._buf, self._stack
        while True:
            pos = self._pos
            end = buf.find(CRLF, max(pos, self._scan))
            if end < 0:
                self._scan = max(pos, len(buf) - 1)
                return False
            kind, after = buf[pos], end + 2
            value: Any
            if kind == 0x3A:  # ':' integer
                value = int(buf[pos + 1 : end])
            elif kind == 0x24:  # '$' bulk string
                size = int(buf[pos + 1 : end])
                if not -1 <= size <= MAX_BULK:
                    raise ProtocolError(f"a bulk string of {size} bytes from Redis")
                if size < 0:
                    value = None
                else:
                    if len(buf) < after + size + 2:
                        self._scan = pos  # the header is found again at once
                        return False
                    if buf[after + size : after + size + 2] != CRLF:
                        raise ProtocolError("a bulk string from Redis does not end with CRLF")
                    value, after = bytes(buf[after : after + size]), after + size + 2
            elif kind == 0x2A:  # '*' array
                size = int(buf[pos + 1 : end])
                if not -1 <= size <= MAX_ITEMS:
                    raise ProtocolError(f"an array of {size} items from Redis")
                if size > 0:
                    if len(stack) >= MAX_DEPTH:
                        raise ProtocolError(f"arrays nested deeper than {MAX_DEPTH} from Redis")
                    stack.append([size, []])
                    self._pos = self._scan = after
                    continue
                value = None if size < 0 else []
            elif kind == 0x2B:  # '+' simple string
                value = bytes(buf[pos + 1 : end])
            elif kind == 0x2D:  # '-' error
                value = RespError(bytes(buf[pos + 1 : end]).decode(errors="replace"))
            else:
                raise ProtocolError(f"unexpected reply type byte {bytes([kind])!r} from Redis")
            self._pos = self._scan = after
            while stack:  # the item completes the arrays it ends
                top = stack[-1]
                top[1].append(value)
                top[0] -= 1
                if top[0]:
                    break
                value = stack.pop()[1]
            else:
                return value


def make_reader(parser: str = "auto") -> Any:
    """hiredis's C parser when installed (`parser="auto"`), else (or `"python"`) `PyReader`."""
    if parser == "auto":
        try:
            import hiredis
        except ImportError:
            pass
        else:
            return hiredis.Reader(protocolError=ProtocolError, replyError=RespError)
    elif parser != "python":
        raise ValueError(f"parser must be 'auto' or 'python', not {parser!r}")
    return PyReader()
