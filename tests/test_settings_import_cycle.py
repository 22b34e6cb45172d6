"""
daf_drf classes named in DRF's `REST_FRAMEWORK` settings load at start-up.

DRF resolves `DEFAULT_AUTHENTICATION_CLASSES` and `DEFAULT_PERMISSION_CLASSES` while
`rest_framework.views` is still being imported (its `schemas` package reads them), so a daf_drf
module that DRF's settings name must not read `rest_framework.views` at import time. Each case
runs in a fresh interpreter: the import order is the thing under test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "daf_drf.authentication.SessionAuthentication",
        "daf_drf.authentication.BasicAuthentication",
        "daf_drf.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["daf_drf.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        "daf_drf.throttling.AnonRateThrottle",
        "daf_drf.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "10/min", "user": "20/min"},
    "EXCEPTION_HANDLER": "daf_drf.exceptions.problem_details_handler",
}

SCRIPT = """
import django
from django.conf import settings

settings.configure(
    SECRET_KEY="x",
    INSTALLED_APPS={apps!r},
    DATABASES={{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}},
    REST_FRAMEWORK={rest_framework!r},
    ROOT_URLCONF=__name__,
)
{before_setup}
django.setup()

from django.core.management import call_command
from django.urls import path
from rest_framework.settings import api_settings

from daf_drf.views import APIView


class Ping(APIView):
    async def get(self, request):
        return None


urlpatterns = [path("ping/", Ping.as_view())]
call_command("check", fail_level="ERROR")
from django.urls import resolve
resolve("/ping/")
from django.core.asgi import get_asgi_application
get_asgi_application()
view = APIView()
print([type(a).__name__ for a in view.get_authenticators()])
print([type(p).__name__ for p in view.get_permissions()])
print([type(t).__name__ for t in view.get_throttles()])
print(api_settings.EXCEPTION_HANDLER.__module__)
"""

BASE_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework.authtoken"]


def _run(apps: list[str], before_setup: str = "") -> subprocess.CompletedProcess[str]:
    code = textwrap.dedent(SCRIPT).format(
        apps=apps, rest_framework=REST_FRAMEWORK, before_setup=before_setup
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    "apps",
    [
        ["daf_drf", "rest_framework", *BASE_APPS],
        ["rest_framework", "daf_drf", *BASE_APPS],
        [*BASE_APPS, "rest_framework"],  # daf_drf used without its app
    ],
    ids=["daf_drf-first", "rest_framework-first", "without-daf_drf-app"],
)
def test_daf_drf_classes_in_drf_settings_load_at_startup_in_either_app_order(
    apps: list[str],
) -> None:
    result = _run(apps)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-4:] == [
        "['SessionAuthentication', 'BasicAuthentication', 'TokenAuthentication']",
        "['IsAuthenticated']",
        "['AnonRateThrottle', 'UserRateThrottle']",
        "daf_drf.exceptions",
    ]


@pytest.mark.parametrize(
    "module",
    ["daf_drf.authentication", "daf_drf.permissions", "daf_drf.throttling", "daf_drf.exceptions"],
)
def test_a_daf_drf_module_imported_before_rest_framework_views_loads(module: str) -> None:
    # The other way into the cycle: a project module imports daf_drf's classes first, and
    # their import pulls in `rest_framework.views`, whose settings read names back from them.
    result = _run(["rest_framework", "daf_drf", *BASE_APPS], before_setup=f"import {module}")
    assert result.returncode == 0, result.stderr
