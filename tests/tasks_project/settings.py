"""
Settings shared by the task tests, the uvicorn server and the task worker they start.

`DAF_DRF_TASKS_DB` is a file SQLite database (the server and the worker are separate
processes); `DAF_DRF_TASKS_BACKEND` picks `TASKS`: "db" (django-tasks-db), "rq"
(django-tasks-rq on `DAF_DRF_TEST_REDIS_URL`) or, by default, the immediate backend.
"""

import os

from tests.databases import database
from tests.settings import *  # noqa: F403

ROOT_URLCONF = "tests.tasks_project.urls"

# Server and worker share one database: a SQLite file (wait for the other's lock), or with
# DAF_DRF_TEST_DATABASE=postgres the harness's PostgreSQL database (tests/databases.py).
DATABASES = {
    "default": database(
        os.environ.get("DAF_DRF_TASKS_DB", ":memory:"), sqlite_options={"timeout": 20}
    )
}

_backend = os.environ.get("DAF_DRF_TASKS_BACKEND", "immediate")
if _backend == "db":
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif _backend == "rq":
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq", "django_tasks_rq"]  # noqa: F405
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    from daf_drf._tasks_compat import TASKS_MODULE

    TASKS = {"default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"}}

RQ_QUEUES = {
    "default": {"URL": os.environ.get("DAF_DRF_TEST_REDIS_URL") or "redis://127.0.0.1:1/0"}
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"daf_drf": {"handlers": ["stderr"], "level": "INFO"}},
}
