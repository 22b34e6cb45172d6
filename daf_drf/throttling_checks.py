"""
Deprecated: moved to `daf_drf.checks.throttling`, with daf_drf's other system checks. Its names
still resolve here, with a `DeprecationWarning`; this module will be removed in a later release.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

# Deprecated: nothing is exported; the old names resolve, with a DeprecationWarning.
__all__: list[str] = []

if TYPE_CHECKING:
    from daf_drf.checks.throttling import (
        check_async_throttles_on_drf_views as check_async_throttles_on_drf_views,
    )
    from daf_drf.checks.throttling import (
        check_throttle_rates as check_throttle_rates,
    )
    from daf_drf.checks.throttling import (
        check_throttle_settings as check_throttle_settings,
    )
    from daf_drf.checks.throttling import (
        check_throttle_store_atomicity as check_throttle_store_atomicity,
    )
else:
    _MOVED = frozenset(
        {
            "check_async_throttles_on_drf_views",
            "check_throttle_rates",
            "check_throttle_settings",
            "check_throttle_store_atomicity",
        }
    )

    def __getattr__(name: str) -> object:
        if name not in _MOVED:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        warnings.warn(
            f"daf_drf.throttling_checks.{name} is deprecated: use daf_drf.checks.throttling.",
            DeprecationWarning,
            stacklevel=2,
        )
        from daf_drf.checks import throttling

        return getattr(throttling, name)
