"""
Deprecated: moved to `daf_drf.checks.generics`, with daf_drf's other system checks. Its names
still resolve here, with a `DeprecationWarning`; this module will be removed in a later release.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

# Deprecated: nothing is exported; the old names resolve, with a DeprecationWarning.
__all__: list[str] = []

if TYPE_CHECKING:
    from daf_drf.checks.generics import (
        check_async_get_queryset as check_async_get_queryset,
    )
    from daf_drf.checks.generics import (
        sync_get_queryset_callers as sync_get_queryset_callers,
    )
else:
    _MOVED = frozenset(
        {
            "check_async_get_queryset",
            "sync_get_queryset_callers",
        }
    )

    def __getattr__(name: str) -> object:
        if name not in _MOVED:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        warnings.warn(
            f"daf_drf.generics_checks.{name} is deprecated: use daf_drf.checks.generics.",
            DeprecationWarning,
            stacklevel=2,
        )
        from daf_drf.checks import generics

        return getattr(generics, name)
