"""
Throttle stores, chosen by `DAF_DRF["THROTTLE_STORE"]`:

| URL | store | guarantee |
|---|---|---|
| unset (`None`) | the Django cache, as DRF | DRF's: not atomic on a shared cache |
| `cache://<alias>` | `caches[alias]`, DRF's format | DRF's |
| `memory://` | in-process dict | exact within one process |
| `redis://`, `rediss://`, `unix://` | Redis / Valkey | exact across processes and hosts |
| `redis+sentinel://`, `redis+cluster://` | Sentinel / Cluster | the same |

`get_store()` returns one shared instance per URL and setting combination. Every store
implements `Store` (`hit`, `ahit`, and `ahit_many` with a default): a project can write its own
and return it from a throttle's `get_store()`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import parse_qs, urlsplit

from django.core.exceptions import ImproperlyConfigured

from daf_drf.backends.base import Decision, History, Store, StoreUnavailable
from daf_drf.backends.cache import CacheStore
from daf_drf.backends.memory import MemoryStore

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "REDIS_SCHEMES",
    "CacheStore",
    "Decision",
    "History",
    "MemoryStore",
    "Store",
    "StoreUnavailable",
    "get_store",
    "validate_store_url",
]

REDIS_SCHEMES = frozenset({"redis", "rediss", "unix", "redis+sentinel", "redis+cluster"})


class _RedisOptions(TypedDict, total=False):
    """The options `get_store()` passes to a Redis store (the `THROTTLE_*` settings)."""

    pool_size: int
    timeout: float
    key_prefix: str


_stores: dict[tuple[object, ...], Store] = {}
_lock = threading.Lock()


def validate_store_url(url: object) -> str | None:
    """Return a message saying what is wrong with `url`, or `None` if it names a store."""
    if url is None:
        return None
    if not isinstance(url, str):
        return f"must be a URL string or None, not {type(url).__name__}"
    parts = urlsplit(url)
    if parts.scheme == "memory":
        max_keys = parse_qs(parts.query).get("max_keys", ["1"])[-1]
        if not max_keys.isdigit() or int(max_keys) < 1:
            return "memory://?max_keys= must be a positive integer"
        return None
    if parts.scheme == "cache":
        if not parts.netloc:
            return "cache:// needs a cache alias, e.g. cache://default"
        return None
    if parts.scheme in REDIS_SCHEMES:
        if parts.scheme == "redis+sentinel" and not parts.path.strip("/"):
            return "redis+sentinel:// needs the service name as its path"
        if parts.scheme in ("redis", "rediss", "unix"):
            return _redis_py_refuses(url)
        return None
    return (
        f"unknown scheme {parts.scheme!r}: use memory://, cache://<alias>, redis://, rediss://, "
        "unix://, redis+sentinel:// or redis+cluster://"
    )


def _redis_py_refuses(url: str) -> str | None:
    # What redis-py would raise on every connection: a value it cannot read, an option its
    # connection does not take. Making a connection object connects nothing.
    import redis.connection

    try:
        options = redis.connection.parse_url(url)  # type: ignore[no-untyped-call,unused-ignore]
        kind = options.pop("connection_class", redis.connection.Connection)
        kind(**options)
    except (ValueError, TypeError) as exc:
        return f"is not a URL redis-py accepts ({exc})"
    return None


def get_store(url: str | None, **redis_options: Unpack[_RedisOptions]) -> Store:
    """
    The store for `url`, created once per URL and option set.

    `redis_options` (`pool_size`, `timeout`, `key_prefix`) apply to Redis URLs only; the
    throttles pass the values of the `THROTTLE_*` settings.
    """
    # Called on every throttle check: the fast path is one dict lookup.
    fast = (url, *sorted(redis_options.items()))
    store = _stores.get(fast)
    if store is not None:
        return store
    problem = validate_store_url(url)
    if problem:
        raise ImproperlyConfigured(f'DAF_DRF["THROTTLE_STORE"] {problem}.')
    scheme = urlsplit(url).scheme if url else None
    # Redis options make a different client; for the other stores they don't matter, so one
    # URL is one store (and one set of counters) whatever the options.
    ident = fast if scheme in REDIS_SCHEMES else (url,)
    with _lock:
        store = _stores.get(ident)
        if store is None:
            store = _stores[ident] = _create(url, scheme, redis_options)
        _stores[fast] = store
    return store


def _create(url: str | None, scheme: str | None, redis_options: _RedisOptions) -> Store:
    if url is None:
        return CacheStore(None)
    parts = urlsplit(url)
    if scheme == "cache":
        return CacheStore(parts.netloc)
    if scheme == "memory":
        max_keys = parse_qs(parts.query).get("max_keys")
        return MemoryStore(int(max_keys[-1])) if max_keys else MemoryStore()
    from daf_drf.backends.redis import RedisStore

    return RedisStore(url, **redis_options)
