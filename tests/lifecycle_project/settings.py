"""
Settings of the connection-lifecycle server (tests/test_postgres_lifecycle.py), run by uvicorn.

Environment: `DAF_DRF_TEST_DB_NAME` (the PostgreSQL database, see tests/databases.py),
`LIFECYCLE_CONN_MAX_AGE` (seconds), `LIFECYCLE_DB_POOL` (max size of Django's psycopg pool,
0 for none), `LIFECYCLE_THREAD_POOL` (`ASGI_THREAD_POOL_SIZE` of daf_drf.asgi: unset or empty
for the entry's default, `0` for the explicit opt-out, or a size).
"""

from __future__ import annotations

import os
from typing import Any

from tests.databases import postgres_settings
from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.lifecycle_project.urls"
DEBUG = False

# Connections of this server carry an application_name, so the test counts them (and not its
# own monitoring connection) in pg_stat_activity.
APPLICATION_NAME = "daf_drf_lifecycle"

_options: dict[str, Any] = {"application_name": APPLICATION_NAME}
_db_pool = int(os.environ.get("LIFECYCLE_DB_POOL", "0"))
if _db_pool:
    _options["pool"] = {"min_size": 0, "max_size": _db_pool, "timeout": 20}

DATABASES = {
    "default": {
        **postgres_settings(os.environ.get("DAF_DRF_TEST_DB_NAME")),
        "CONN_MAX_AGE": int(os.environ.get("LIFECYCLE_CONN_MAX_AGE", "0")),
        "OPTIONS": _options,
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": [],
}

DAF_DRF: dict[str, Any] = {}
if os.environ.get("LIFECYCLE_THREAD_POOL"):
    DAF_DRF["ASGI_THREAD_POOL_SIZE"] = int(os.environ["LIFECYCLE_THREAD_POOL"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    # The raising view's 500s are expected; everything else at ERROR is counted by the test.
    "loggers": {"django.request": {"handlers": ["stderr"], "level": "CRITICAL"}},
}
