"""Settings for daf_drf's test suite."""

import os

from tests.databases import WithoutMigrations, database, on_postgres

SECRET_KEY = "daf-drf-tests-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "rest_framework",
    "rest_framework.authtoken",
    "daf_drf",
    "tests",
    "django_filters",  # compat project (filter forms in the browsable API)
    "compat.project.drf_app",  # compat project (owned by compat/)
    "django_tasks_db",  # database task backend (tests/test_tasks*.py)
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]

# SQLite (DAF_DRF_TEST_DB: a file instead of memory), or the throwaway PostgreSQL server with
# DAF_DRF_TEST_DATABASE=postgres (tests/databases.py).
DATABASES = {
    "default": database(
        os.environ.get("DAF_DRF_TEST_DB", ":memory:"),
        TEST={"NAME": None if on_postgres() else os.environ.get("DAF_DRF_TEST_DB") or None},
    )
}
if on_postgres():
    MIGRATION_MODULES = WithoutMigrations()

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

REST_FRAMEWORK: dict[str, object] = {}

# The throwaway redis-server started by `make test` (scripts/with-redis.sh).
REDIS_URL = os.environ.get("DAF_DRF_TEST_REDIS_URL", "")

# Django 6.1 deprecates the implicit default mailer (RemovedInDjango2028Warning on every
# send_mail, an error under the suite's warning filter) in favour of MAILERS; older Django
# ignores the setting. The test runner swaps each alias for the locmem backend anyway.
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
