"""
Which URLs the lean client serves, read by redis-py's own URL parser.

A DRF view (redis-py) and a daf_drf view (the lean client) must count a throttle in the same
database of the same server, logged in as the same user. So there is one parser, redis-py's
(`parse_url` of `redis.asyncio.connection`, used by the async client the lean client stands
in for, which must agree with the sync client's), and the lean client serves a URL only when
everything redis-py read from it is something the lean client reproduces: the server (host
and port, or unix socket), the user name, password and database, and for `rediss://` the TLS
options, turned into an `ssl.SSLContext` by redis-py's own `SSLConnection`. Any other option
(a timeout, `protocol`, `client_name`, an option redis-py does not know, a value it rejects)
leaves the URL to redis-py, which either honours it or explains what is wrong with it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

import redis.asyncio.connection as aconnection
import redis.connection as connection
from redis.exceptions import RedisError

__all__ = ["Target", "lean_target"]

# What redis-py reads from a URL that the lean client reproduces.
_SERVED = frozenset({"host", "port", "path", "username", "password", "db", "connection_class"})


@dataclass(frozen=True, slots=True)
class Target:
    """Where to connect and how to log in, as redis-py would."""

    host: str = "localhost"  # redis-py's default
    port: int = 6379
    path: str | None = None  # a unix socket
    username: str | None = None
    password: str | None = None
    db: int = 0
    tls: ssl.SSLContext | None = None

    def login(self) -> tuple[str, ...] | None:
        """The `AUTH` arguments redis-py sends for these credentials, or `None` for no `AUTH`."""
        if not (self.username or self.password):
            return None
        if self.username:
            return (self.username, self.password or "")
        return (self.password or "",)


def lean_target(url: str) -> Target | None:
    """The `Target` of a URL this client serves, or `None` to leave the URL to redis-py."""
    try:
        options: dict[str, Any] = dict(aconnection.parse_url(url))
        sync_options: dict[str, Any] = dict(connection.parse_url(url))  # type: ignore[no-untyped-call,unused-ignore]
    except ValueError:
        return None  # another scheme (Sentinel, Cluster), or a value redis-py rejects
    kind = options.pop("connection_class", None)
    sync_kind = sync_options.pop("connection_class", None)
    if options != sync_options or getattr(kind, "__name__", None) != getattr(
        sync_kind, "__name__", None
    ):
        return None  # redis-py's own sync and async clients disagree (e.g. "REDIS://" on 5.2)
    tls = None
    if kind is aconnection.SSLConnection:
        tls_options = {name: options.pop(name) for name in list(options) if name[:4] == "ssl_"}
        tls = _tls_context(tls_options)
        if tls is None:
            return None
    elif kind is not None and kind is not aconnection.UnixDomainSocketConnection:
        return None
    if set(options) - _SERVED:
        return None
    db = options.get("db", 0)
    if not isinstance(db, int):
        return None
    if kind is aconnection.UnixDomainSocketConnection:
        if not options.get("path"):
            return None
        return Target(
            host="",
            port=0,
            path=options["path"],
            username=options.get("username"),
            password=options.get("password"),
            db=db,
        )
    return Target(
        host=options.get("host", "localhost"),
        port=options.get("port", 6379),
        username=options.get("username"),
        password=options.get("password"),
        db=db,
        tls=tls,
    )


def _tls_context(options: dict[str, Any]) -> ssl.SSLContext | None:
    # redis-py's async `SSLConnection` turns its `ssl_*` options into a context (with its
    # defaults for this version: certificate required, host name checked on redis-py >= 6);
    # making one connects nothing. An option it does not take, or a value it rejects, leaves
    # the URL to redis-py. Reading the certificate files happens here, at startup.
    try:
        connection = aconnection.SSLConnection(**options)
        context = connection.ssl_context.get()
    except (TypeError, ValueError, OSError, RedisError):  # ssl.SSLError is an OSError
        return None
    return context if isinstance(context, ssl.SSLContext) else None
