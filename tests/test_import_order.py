"""daf_drf's classes in DRF's settings import cleanly whichever module loads first."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_daf_drf_authenticators_in_default_authentication_classes_start() -> None:
    # `rest_framework.views` reads DEFAULT_AUTHENTICATION_CLASSES while it is imported (by
    # daf_drf's system checks at `django.setup()`), which imports daf_drf.authentication
    # while rest_framework.views is half-initialised.
    code = textwrap.dedent(
        """
        import django
        from django.conf import settings

        settings.configure(
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "rest_framework",
                "rest_framework.authtoken",
                "daf_drf",
            ],
            REST_FRAMEWORK={
                "DEFAULT_AUTHENTICATION_CLASSES": [
                    "daf_drf.authentication.SessionAuthentication",
                    "daf_drf.authentication.TokenAuthentication",
                ],
                "DEFAULT_THROTTLE_CLASSES": ["daf_drf.throttling.UserRateThrottle"],
                "DEFAULT_THROTTLE_RATES": {"user": "10/min"},
            },
        )
        django.setup()
        from rest_framework.views import APIView

        names = [cls.__module__ for cls in APIView.authentication_classes]
        assert names == ["daf_drf.authentication"] * 2, names
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
