"""
redis-py clients for a store URL: sync or asyncio; plain, Sentinel or Cluster.

`RedisStore` talks through them for sync checks, and on the loop where daf_drf's lean client
does not reproduce every part of the URL.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit

import redis
import redis.asyncio as aredis
import redis.asyncio.cluster
import redis.asyncio.sentinel
import redis.cluster
import redis.sentinel

__all__ = [
    "RedisPyAsync",
    "SyncClient",
    "async_client",
    "redact",
    "sentinel_parts",
    "sync_client",
]

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


def sync_client(
    url: str, pool_size: int, timeout: float | None, options: dict[str, Any]
) -> SyncClient:
    """A redis-py client for `url`, shared by the process's threads."""
    client: SyncClient = _client(redis, url, pool_size, timeout, options)
    return client


def async_client(url: str, pool_size: int, options: dict[str, Any]) -> RedisPyAsync:
    """A redis.asyncio client for `url`, bound to the event loop that first uses it."""
    client: RedisPyAsync = _client(aredis, url, pool_size, None, options)
    return client


def _client(
    lib: ModuleType, url: str, pool_size: int, timeout: float | None, options: dict[str, Any]
) -> Any:
    # `redis` and `redis.asyncio` mirror each other's names: one recipe for both.
    scheme = urlsplit(url).scheme
    if scheme == "redis+sentinel":
        nodes, service, db, auth = sentinel_parts(url)
        sentinel = lib.sentinel.Sentinel(nodes, sentinel_kwargs=dict(options), **options, **auth)
        master = sentinel.master_for(service, db=db, max_connections=pool_size)
        # The clients that talk to the sentinels themselves are closed with the master's.
        master.daf_drf_helpers = list(sentinel.sentinels)
        return master
    if scheme == "redis+cluster":
        plain = "redis" + url[len("redis+cluster") :]
        return lib.cluster.RedisCluster.from_url(plain, max_connections=pool_size, **options)
    pool = lib.BlockingConnectionPool.from_url(
        url, max_connections=pool_size, timeout=timeout, **options
    )
    # `from_pool` hands the pool to the client, so closing the client closes the pool.
    return lib.Redis.from_pool(pool)
