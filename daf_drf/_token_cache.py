"""
An in-process cache of valid tokens for `daf_drf.authentication.TokenAuthentication`.

DRF reads the token and its user from the database on every request. With
`DAF_DRF["TOKEN_CACHE_TIMEOUT"] = <seconds>` (0, the default, keeps DRF's behaviour) a valid
token is remembered by its key for that many seconds, so a request carrying it is
authenticated without a query and, in a daf_drf view, without a thread hop.

What a cached entry means, and how revocation is honoured:

- Only tokens that authenticated successfully (token found, user active) are cached; an
  unknown or invalid key always goes to the database, so guessing keys cannot fill the cache.
- Deleting or saving the token model, or saving or deleting the user model, through Django's
  ORM evicts the entry at once in the process that made the change (the `post_save` /
  `post_delete` signals, connected for those two models only when the cache is on).
- Other processes (other workers, other hosts, `QuerySet.update()`, raw SQL, `loaddata`
  without signals) see the change when their entry expires: at most `TOKEN_CACHE_TIMEOUT`
  seconds later. Choose the timeout as the longest time a revoked token may still be accepted.
- Each request gets its own copies of the cached user and token (`copy.copy`, which copies
  Django's model state), so a view that changes `request.user` changes nothing for another
  request.
- At most `MAX_ENTRIES` tokens are kept; the least recently used is dropped first.
"""

from __future__ import annotations

import copy
import threading
import time
from collections import OrderedDict
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db.models import Model
from django.db.models.signals import post_delete, post_save

from daf_drf.settings import daf_settings

__all__ = ["MAX_ENTRIES", "clear", "get", "put", "timeout"]

MAX_ENTRIES = 10_000

_lock = threading.Lock()
# key -> (expires at, monotonic clock; user; token)
_entries: OrderedDict[str, tuple[float, Model, Model]] = OrderedDict()
_connected: set[type[Model]] = set()


def timeout() -> float:
    """`DAF_DRF["TOKEN_CACHE_TIMEOUT"]` in seconds; 0 when the cache is off."""
    value = daf_settings.TOKEN_CACHE_TIMEOUT
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ImproperlyConfigured(
            f'DAF_DRF["TOKEN_CACHE_TIMEOUT"] is {value!r}; expected a number of seconds >= 0 '
            "(0 turns the token cache off)."
        )
    return float(value)


def get(key: str) -> tuple[Model, Model] | None:
    """Copies of the cached `(user, token)` for `key`, or `None` (absent or expired)."""
    now = time.monotonic()
    with _lock:
        entry = _entries.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            del _entries[key]
            return None
        _entries.move_to_end(key)
    _expires, user, token = entry
    return _copies(user, token)


def put(key: str, user: Model, token: Model, seconds: float) -> None:
    """Remember a token that just authenticated, for `seconds`."""
    _watch(type(user))
    _watch(type(token))
    user, token = _copies(user, token)
    with _lock:
        _entries[key] = (time.monotonic() + seconds, user, token)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)


def clear() -> None:
    """Forget every cached token (tests, or after revoking tokens in bulk)."""
    with _lock:
        _entries.clear()


def _copies(user: Model, token: Model) -> tuple[Model, Model]:
    user = copy.copy(user)
    token = copy.copy(token)
    # The token's cached `user` must be this request's copy, not the shared one.
    token._state.fields_cache["user"] = user
    return user, token


def _watch(model: type[Model]) -> None:
    if model in _connected:
        return
    with _lock:
        if model in _connected:
            return
        uid = f"daf_drf.token_cache.{model._meta.label}"
        post_save.connect(_evict, sender=model, weak=False, dispatch_uid=f"{uid}.save")
        post_delete.connect(_evict, sender=model, weak=False, dispatch_uid=f"{uid}.delete")
        _connected.add(model)


def _evict(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    """Drop every entry whose user or token is `instance`."""
    pk = instance.pk
    with _lock:
        stale = [
            key
            for key, (_expires, *objects) in _entries.items()
            if any(type(obj) is sender and obj.pk == pk for obj in objects)
        ]
        for key in stale:
            del _entries[key]


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    # A test that turns the cache on or off starts from an empty one.
    if setting == "DAF_DRF":
        clear()


setting_changed.connect(_settings_changed, dispatch_uid="daf_drf.token_cache.settings")
