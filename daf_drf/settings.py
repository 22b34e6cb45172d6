"""
Settings for daf_drf live in a `DAF_DRF` dict in the project's settings:

    DAF_DRF = {
        "THROTTLE_STORE": "redis://127.0.0.1:6379/0",
        "THROTTLE_FAILURE": "closed",
    }

Read them through `daf_settings`, which honours `override_settings`:

    from daf_drf.settings import daf_settings
    daf_settings.THROTTLE_FAILURE

DRF's own settings (`NUM_PROXIES`, `DEFAULT_THROTTLE_CLASSES`, `DEFAULT_THROTTLE_RATES`,
`EXCEPTION_HANDLER`, ...) stay in `REST_FRAMEWORK` and are read per request through
`rest_framework.settings.api_settings`, exactly as DRF reads them.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from rest_framework.settings import perform_import

__all__ = ["DEFAULTS", "IMPORT_STRINGS", "DafSettings", "daf_settings"]

DEFAULTS: dict[str, object] = {
    # Sync hooks (permissions, authenticators, throttles, exception handlers) listed here
    # run inline on the event loop instead of in a thread. Dotted paths.
    "INLINE_HOOKS": [],
    # Throttle store: None means the Django cache, exactly like DRF. Otherwise a URL:
    # "memory://", "cache://<alias>", "redis://...", "rediss://...", "redis+sentinel://...",
    # "redis+cluster://...".
    "THROTTLE_STORE": None,
    # What a throttle check does when its store is down: "open" admits, "closed" answers 429.
    "THROTTLE_FAILURE": "open",
    # Seconds a throttle check may wait for its store before the failure mode applies.
    "THROTTLE_TIMEOUT": 0.5,
    # Retry-After sent with a 429 caused by a store outage under "closed".
    "THROTTLE_FAILURE_RETRY_AFTER": 5,
    "THROTTLE_REDIS_POOL_SIZE": 50,
    "THROTTLE_KEY_PREFIX": "daf_drf:",
    # Opt-in IETF RateLimit / RateLimit-Policy headers (off: responses stay identical to DRF).
    "THROTTLE_RATELIMIT_HEADERS": False,
    # Concurrency bound for `daf_drf.tasks.fire_and_forget`.
    "FIRE_AND_FORGET_LIMIT": 100,
    # URL name of the task-status view, used for the `Location` header of 202 responses.
    "TASK_STATUS_URL_NAME": "daf_drf-task-status",
    # `daf_drf.asgi`: size of the bounded pool of long-lived request threads, which bounds the
    # process's database connections to that many per alias (None: this default). 0 opts out
    # of reuse: a fresh thread per request, as Django does, still at most 8 at once.
    "ASGI_THREAD_POOL_SIZE": 8,
    # Seconds a valid token of `daf_drf.authentication.TokenAuthentication` is served from an
    # in-process cache (0: read from the database on every request, as DRF does).
    "TOKEN_CACHE_TIMEOUT": 0,
}

IMPORT_STRINGS: frozenset[str] = frozenset({"INLINE_HOOKS"})

_MISSING = object()


class DafSettings:
    """
    Lazy accessor for the `DAF_DRF` settings dict, falling back to `DEFAULTS`.

    Dotted paths listed in `IMPORT_STRINGS` are imported on first access. Values are cached
    until `reload()`, which runs whenever `override_settings` changes `DAF_DRF`.
    """

    def __init__(self, defaults: dict[str, object], import_strings: frozenset[str]) -> None:
        self.defaults = defaults
        self.import_strings = import_strings
        self._cache: dict[str, object] = {}
        self._inline_hooks: tuple[frozenset[object], tuple[object, ...]] | None = None

    @property
    def user_settings(self) -> dict[str, object]:
        value = getattr(settings, "DAF_DRF", None) or {}
        if not isinstance(value, dict):
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured("settings.DAF_DRF must be a dict.")
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self.defaults:
            raise AttributeError(f"Invalid daf_drf setting: {name!r}")
        cached = self._cache.get(name, _MISSING)
        if cached is not _MISSING:
            return cached
        value = self.user_settings.get(name, self.defaults[name])
        if name in self.import_strings:
            value = perform_import(value, name)
        self._cache[name] = value
        return value

    def inline_hooks(self) -> tuple[frozenset[object], tuple[object, ...]]:
        """
        `INLINE_HOOKS` split into a set (the hashable entries, every function and class) and a
        tuple of the rest, cached until `reload()`: the hook rule asks on every request.
        """
        cached = self._inline_hooks
        if cached is None:
            hashable: list[object] = []
            other: list[object] = []
            for entry in self.INLINE_HOOKS:
                try:
                    hash(entry)
                except TypeError:
                    other.append(entry)
                else:
                    hashable.append(entry)
            cached = self._inline_hooks = (frozenset(hashable), tuple(other))
        return cached

    def reload(self) -> None:
        self._cache.clear()
        self._inline_hooks = None


daf_settings = DafSettings(DEFAULTS, IMPORT_STRINGS)


@receiver(setting_changed)
def _reload_daf_settings(*, setting: str, **kwargs: object) -> None:
    if setting in ("DAF_DRF", "REST_FRAMEWORK"):
        daf_settings.reload()
