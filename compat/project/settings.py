"""
Settings of the compat project, as a DRF project would have them *after step 1 of the
migration*: `DEFAULT_THROTTLE_CLASSES` names daf_drf's throttle classes, so endpoints still on
DRF and endpoints already on daf_drf count against the same limits.

`ORIGINAL_REST_FRAMEWORK` is the project before migration (DRF's own throttle classes): the
oracle the differential suite compares against.

The test run uses `tests.settings`; `compat/conftest.py` applies `REST_FRAMEWORK`,
`ROOT_URLCONF` and `ATOMIC_REQUESTS` from here to the compat tests (see `apply_project`). The
module is also a complete settings module of its own:
`DJANGO_SETTINGS_MODULE=compat.project.settings django-admin check`.
"""

from __future__ import annotations

from typing import Any

from tests.databases import database

SECRET_KEY = "compat-project-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "compat.project.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "daf_drf",
    "compat.project.drf_app",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

DATABASES = {
    # SQLite in memory, or PostgreSQL with DAF_DRF_TEST_DATABASE=postgres (tests/databases.py).
    "default": database(
        ":memory:",
        # Every DRF view runs in a transaction; migrated views opt out (Django refuses
        # ATOMIC_REQUESTS on async views) and use daf_drf's per-endpoint atomic blocks.
        ATOMIC_REQUESTS=True,
    )
}

# Reviewed: the migrated endpoints group their writes with daf_drf.transaction.atomic.
SILENCED_SYSTEM_CHECKS = ["daf_drf.W040"]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

THROTTLE_RATES = {"anon": "30/min", "user": "60/min", "stats": "3/min", "labels": "2/min"}

REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_THROTTLE_CLASSES": [
        "daf_drf.throttling.AnonRateThrottle",
        "daf_drf.throttling.UserRateThrottle",
        "daf_drf.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 3,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "EXCEPTION_HANDLER": "compat.project.drf_app.exceptions.api_exception_handler",
}

ORIGINAL_REST_FRAMEWORK: dict[str, Any] = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
}
