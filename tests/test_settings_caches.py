"""
What daf_drf resolves from `DAF_DRF` once and keeps (the `INLINE_HOOKS` sets, each throttle's
store) follows `override_settings`: it is forgotten whenever `DAF_DRF` changes.
"""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from daf_drf.backends import CacheStore, MemoryStore
from daf_drf.hooks import is_inline_safe
from daf_drf.throttling import AnonRateThrottle


def listed_hook(request: Any) -> bool:
    return True


class _UnhashableHook:
    # Defines `__eq__` without `__hash__`, so Python makes its instances unhashable.
    def __eq__(self, other: object) -> bool:
        return other is self

    def __call__(self, request: Any) -> bool:
        return True


unhashable_hook = _UnhashableHook()


class MemoryAnonThrottle(AnonRateThrottle):
    store = "memory://"


def test_an_inline_hook_listed_by_override_settings_is_inline_only_inside_it() -> None:
    assert not is_inline_safe(None, listed_hook)
    with override_settings(DAF_DRF={"INLINE_HOOKS": [f"{__name__}.listed_hook"]}):
        assert is_inline_safe(None, listed_hook)
    assert not is_inline_safe(None, listed_hook)


def test_an_unhashable_entry_in_inline_hooks_keeps_the_others_working() -> None:
    paths = [f"{__name__}.unhashable_hook", f"{__name__}.listed_hook"]
    with override_settings(DAF_DRF={"INLINE_HOOKS": paths}):
        assert is_inline_safe(None, listed_hook)
        assert not is_inline_safe(
            None, test_an_unhashable_entry_in_inline_hooks_keeps_the_others_working
        )


def test_a_throttle_store_follows_each_change_of_throttle_store() -> None:
    with override_settings(DAF_DRF={"THROTTLE_STORE": "memory://"}):
        assert isinstance(AnonRateThrottle().get_store(), MemoryStore)
    with override_settings(DAF_DRF={"THROTTLE_STORE": "cache://default"}):
        store = AnonRateThrottle().get_store()
        assert isinstance(store, CacheStore)
        assert store.alias == "default"
    default = AnonRateThrottle().get_store()
    assert isinstance(default, CacheStore)
    assert default.alias is None


def test_a_throttle_store_attribute_wins_over_throttle_store_after_a_change() -> None:
    with override_settings(DAF_DRF={"THROTTLE_STORE": "cache://default"}):
        assert isinstance(MemoryAnonThrottle().get_store(), MemoryStore)
        assert isinstance(AnonRateThrottle().get_store(), CacheStore)
