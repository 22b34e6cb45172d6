"""
The realistic benchmark project: `startproject`'s settings plus DRF's quickstart, on PostgreSQL.

Everything `django-admin startproject` writes is kept (contrib apps, the seven middleware,
templates, password validators, `DEBUG` off as in production). Two environment variables
choose what differs between peers, and only that:

- `BENCH_STACK`: `drf` (the incumbent: DRF's authentication and throttle classes, counters
  in Django's Redis cache) or `daf` (the migrated project: the same settings after
  docs/migration.md's step 2, daf_drf's classes, counters in daf_drf's Redis store).
- `BENCH_DB_MODE`: `persistent` (`CONN_MAX_AGE=60`, one connection per worker thread: gunicorn
  and daf_drf's entry with its thread pool) or `pool` (psycopg's pool, Django's recommendation
  for its stock ASGI handler, which starts a thread per request).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from tests.support.projects import startproject_settings

_dsn = urlsplit(os.environ.get("BENCH_PG_DSN", "postgresql://daf_drf@127.0.0.1:5432/daf_drf"))
_pool = os.environ.get("BENCH_DB_MODE", "persistent") == "pool"
# Everything `startproject` writes (tests/support/projects.py), then DRF's quickstart.
globals().update(
    startproject_settings(
        ["rest_framework", "rest_framework.authtoken", "daf_drf", "bench.realistic"],
        SECRET_KEY="bench-realistic-not-secret",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF="bench.realistic.urls",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": _dsn.path.lstrip("/"),
                "USER": _dsn.username or "",
                "PASSWORD": _dsn.password or "",
                "HOST": _dsn.hostname or "127.0.0.1",
                "PORT": str(_dsn.port or 5432),
                "CONN_MAX_AGE": 0 if _pool else 60,
                "OPTIONS": {"pool": {"min_size": 4, "max_size": 16}} if _pool else {},
            }
        },
    )
)

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# DRF's throttles keep their counters in the default cache: Redis, as in production.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
}

STACK = os.environ.get("BENCH_STACK", "drf")
_classes = "daf_drf" if STACK == "daf" else "rest_framework"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        f"{_classes}.authentication.SessionAuthentication",
        f"{_classes}.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [
        f"{_classes}.throttling.UserRateThrottle",
        f"{_classes}.throttling.AnonRateThrottle",
    ],
    # High enough that no case answers 429: the cases measure the check, not the refusal.
    "DEFAULT_THROTTLE_RATES": {"user": "100000000/min", "anon": "100000000/min"},
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}

if STACK == "daf":
    DAF_DRF = {
        "THROTTLE_STORE": REDIS_URL,
        "ASGI_THREAD_POOL_SIZE": int(os.environ.get("BENCH_POOL", "8")),
        # daf_drf's recommended setup: a valid token is served from memory for 60 s (how
        # revocation is honoured: docs/authentication.md). BENCH_TOKEN_CACHE=0 measures without.
        "TOKEN_CACHE_TIMEOUT": float(os.environ.get("BENCH_TOKEN_CACHE", "60")),
    }

UPSTREAM_URL = os.environ.get("BENCH_UPSTREAM_URL", "http://127.0.0.1:9999")

if os.environ.get("BENCH_BOLT"):
    # The django-bolt peer: its app (the `runbolt` command) and its API (views_bolt.py).
    INSTALLED_APPS = [*INSTALLED_APPS, "django_bolt"]  # noqa: F821  (from startproject_settings)
    BOLT_API = ["bench.realistic.views_bolt:api"]
