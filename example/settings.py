"""
Settings of the daf_drf demo.

Zero setup: SQLite next to this file and the in-process `memory://` throttle store. Set
`DAF_DRF_THROTTLE_STORE=redis://127.0.0.1:6379/0` to keep the throttle counters in Redis
instead (shared by every worker process).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "daf-drf-demo-not-secret")
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
# Loopback only: the fan-out endpoint calls back into the server named by the Host header.
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ROOT_URLCONF = "example.urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.staticfiles",
    "rest_framework",
    "daf_drf",
    "example.api",
]

MIDDLEWARE: list[str] = []

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("DAF_DRF_DEMO_DB", str(BASE_DIR / "db.sqlite3")),
    }
}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

STATIC_URL = "/static/"

REST_FRAMEWORK: dict[str, Any] = {
    # The demo has no users: every client is anonymous, throttled by address.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    # daf_drf's throttle classes, set once: the DRF endpoint and the migrated ones count
    # against the same limits.
    "DEFAULT_THROTTLE_CLASSES": [
        "daf_drf.throttling.AnonRateThrottle",
        "daf_drf.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "300/min", "quotes": "5/min"},
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 5,
}

DAF_DRF = {
    "THROTTLE_STORE": os.environ.get("DAF_DRF_THROTTLE_STORE", "memory://"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
