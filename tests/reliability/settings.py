"""Settings of the reliability suite's server, run by uvicorn in a subprocess."""

from __future__ import annotations

import os

from tests.databases import database
from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.reliability.urls"
DEBUG = False
# RELIABILITY_DB: the SQLite file, or the PostgreSQL database (tests/databases.py).
DATABASES = {"default": database(os.environ["RELIABILITY_DB"], sqlite_options={"timeout": 20})}
# Small limits, so that oversize bodies are cheap to send and memory growth easy to bound.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {"reliability": os.environ.get("RELIABILITY_RATE", "100/min")},
}
if "RELIABILITY_NUM_PROXIES" in os.environ:
    REST_FRAMEWORK["NUM_PROXIES"] = int(os.environ["RELIABILITY_NUM_PROXIES"])

DAF_DRF = {
    "THROTTLE_STORE": os.environ.get("RELIABILITY_THROTTLE_STORE", "memory://"),
    "THROTTLE_FAILURE": os.environ.get("RELIABILITY_FAILURE", "open"),
    "THROTTLE_TIMEOUT": float(os.environ.get("RELIABILITY_TIMEOUT", "0.5")),
    "THROTTLE_REDIS_POOL_SIZE": int(os.environ.get("RELIABILITY_POOL", "50")),
}

if os.environ.get("RELIABILITY_CLOCK_SKEW"):
    # This app server's clock runs ahead (or behind) by the given seconds, as a host whose
    # NTP is off would. Only the wall clock moves; the event loop's monotonic clock does not.
    import time as _time

    _skew = float(os.environ["RELIABILITY_CLOCK_SKEW"])
    _real_time = _time.time
    _time.time = lambda: _real_time() + _skew
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
