"""Settings of the reliability suite's server, run by uvicorn in a subprocess."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.urls"
DEBUG = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["RELIABILITY_DB"],
        "OPTIONS": {"timeout": 20},
    }
}
# Small limits, so that oversize bodies are cheap to send and memory growth easy to bound.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}
_store = os.environ.get("RELIABILITY_THROTTLE_STORE")
DAF_DRF = {"THROTTLE_STORE": _store} if _store else {}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
