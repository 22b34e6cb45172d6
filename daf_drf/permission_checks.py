"""
Deprecated: moved to `daf_drf.checks.permissions`, with daf_drf's other system checks. Its names
still resolve here, with a `DeprecationWarning`; this module will be removed in a later release.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

# Deprecated: nothing is exported; the old names resolve, with a DeprecationWarning.
__all__: list[str] = []

if TYPE_CHECKING:
    from daf_drf.checks.permissions import (
        check_async_hooks_on_drf_views as check_async_hooks_on_drf_views,
    )
    from daf_drf.checks.permissions import (
        is_async_authenticator as is_async_authenticator,
    )
    from daf_drf.checks.permissions import (
        is_async_permission as is_async_permission,
    )
else:
    _MOVED = frozenset(
        {
            "check_async_hooks_on_drf_views",
            "is_async_authenticator",
            "is_async_permission",
        }
    )

    def __getattr__(name: str) -> object:
        if name not in _MOVED:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        warnings.warn(
            f"daf_drf.permission_checks.{name} is deprecated: use daf_drf.checks.permissions.",
            DeprecationWarning,
            stacklevel=2,
        )
        from daf_drf.checks import permissions

        return getattr(permissions, name)
