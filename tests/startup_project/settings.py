"""
Settings of the start-up matrix project (tests/test_startup_matrix.py).

A `startproject` project with DRF and daf_drf installed. The case under test comes from the
environment (`DAF_STARTUP_CASE`, JSON): which daf_drf objects go in which setting, and whether
`"daf_drf"` comes before or after `"rest_framework"` in `INSTALLED_APPS`.
"""

from __future__ import annotations

import json
import os

CASE = json.loads(os.environ["DAF_STARTUP_CASE"])

SECRET_KEY = "daf-drf-startup-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
ROOT_URLCONF = "tests.startup_project.urls"
WSGI_APPLICATION = "tests.startup_project.wsgi.application"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

_drf = ["rest_framework", "rest_framework.authtoken"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    *(["daf_drf", *_drf] if CASE["order"] == "daf_drf-first" else [*_drf, "daf_drf"]),
    "tests.startup_project",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "static/"

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
