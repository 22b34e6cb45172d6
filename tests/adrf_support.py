"""adrf is a test peer; adrf 0.1.14 cannot be imported on DRF 3.16 (it needs DRF >= 3.17)."""

from __future__ import annotations

import pytest


def require_adrf() -> None:
    """Skip the calling test module when adrf cannot be imported with the installed DRF."""
    try:
        import adrf.serializers  # noqa: F401
    except (ImportError, AttributeError) as exc:  # adrf uses serializers.BigIntegerField
        import rest_framework

        pytest.skip(
            f"adrf cannot be imported on DRF {rest_framework.__version__} ({exc}): adrf "
            "0.1.14 needs DRF >= 3.17, so its interop tests run on DRF 3.17 and 3.18 only.",
            allow_module_level=True,
        )
