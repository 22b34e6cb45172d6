"""
Settings of the start-up matrix project (tests/test_startup_matrix.py).

A `startproject` project with DRF and daf_drf installed. The case under test comes from the
environment (`DAF_STARTUP_CASE`, JSON): which daf_drf objects go in which setting, and whether
`"daf_drf"` comes before or after `"rest_framework"` in `INSTALLED_APPS`.
"""

from __future__ import annotations

import json
import os

from tests.support.projects import startproject_settings

CASE = json.loads(os.environ["DAF_STARTUP_CASE"])

_drf = ["rest_framework", "rest_framework.authtoken"]
_settings = startproject_settings(
    [
        *(["daf_drf", *_drf] if CASE["order"] == "daf_drf-first" else [*_drf, "daf_drf"]),
        "tests.startup_project",
    ],
    SECRET_KEY="daf-drf-startup-not-secret",
    ALLOWED_HOSTS=["testserver", "localhost"],
    ROOT_URLCONF="tests.startup_project.urls",
    WSGI_APPLICATION="tests.startup_project.wsgi.application",
)
globals().update(_settings)
MIDDLEWARE: list[str] = _settings["MIDDLEWARE"]

REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_THROTTLE_RATES": {"anon": "100/min", "user": "100/min"},
}
for _name, _value in (
    CASE["value"] if CASE["setting"] == "ALL" else {CASE["setting"]: CASE["value"]}
).items():
    if _name == "MIDDLEWARE":
        MIDDLEWARE.extend(_value if isinstance(_value, list) else [_value])
    else:
        REST_FRAMEWORK[_name] = _value
