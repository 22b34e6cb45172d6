"""
redis-py clients for a store URL: sync or asyncio; plain, Sentinel or Cluster.

`RedisStore` talks through them for sync checks, and on the loop where daf_drf's lean client
does not reproduce every part of the URL.
"""

from __future__ import annotations

from typing import Any, Literal, overload
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio as aredis
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel

__all__ = ["RedisPyAsync", "SyncClient", "make_client", "redact", "sentinel_parts"]

SyncClient = redis.Redis | redis.cluster.RedisCluster
RedisPyAsync = aredis.Redis | aredis.cluster.RedisCluster


def redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return parts._replace(netloc=netloc).geturl()
    return url


def sentinel_parts(url: str) -> tuple[list[tuple[str, int]], str, int, dict[str, Any]]:
    # redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]
    parts = urlsplit(url)
    auth, _, hosts = parts.netloc.rpartition("@")
    password = unquote(auth.partition(":")[2]) if auth else None
    nodes = []
    for node in hosts.split(","):
        host, _, port = node.rpartition(":")
        nodes.append((host or node, int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError(f"{redact(url)}: a Sentinel URL needs the service name as its path.")
    db = int(path[1]) if len(path) > 1 else 0
    return nodes, path[0], db, ({"password": password} if password else {})


@overload
def make_client(
    url: str,
    pool_size: int,
    timeout: float | None,
    options: dict[str, Any],
    *,
    asyncio_: Literal[False],
) -> SyncClient: ...
@overload
def make_client(
    url: str,
    pool_size: int,
    timeout: float | None,
    options: dict[str, Any],
    *,
    asyncio_: Literal[True],
) -> RedisPyAsync: ...
def make_client(
    url: str, pool_size: int, timeout: float | None, options: dict[str, Any], *, asyncio_: bool
) -> SyncClient | RedisPyAsync:
    # redis and redis.asyncio mirror each other's names: one recipe for both.
    lib: Any = aredis if asyncio_ else redis
    scheme = urlsplit(url).scheme
    if scheme == "redis+sentinel":
        nodes, service, db, auth = sentinel_parts(url)
        sentinel = lib.sentinel.Sentinel(nodes, sentinel_kwargs=dict(options), **options, **auth)
        master = sentinel.master_for(service, db=db, max_connections=pool_size)
        # The clients that talk to the sentinels themselves are closed with the master's.
        master.daf_drf_helpers = list(sentinel.sentinels)
        client: SyncClient | RedisPyAsync = master
    elif scheme == "redis+cluster":
        plain = "redis" + url[len("redis+cluster") :]
        client = lib.cluster.RedisCluster.from_url(plain, max_connections=pool_size, **options)
    else:
        pool = lib.BlockingConnectionPool.from_url(
            url, max_connections=pool_size, timeout=timeout, **options
        )
        # `from_pool` hands the pool to the client, so closing the client closes the pool.
        client = lib.Redis.from_pool(pool)
    return client
