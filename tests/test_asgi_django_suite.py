"""
Django's own `tests/asgi` and `tests/handlers`, run against `daf_drf.asgi`.

The Django sdist of the installed version is fetched from PyPI at test time with
`pip download --no-deps --no-binary :all:` into `.tmp/django-sdist/` (outside git; reused by
later runs), and only `runtests.py`, `test_sqlite.py`, `urls.py`, `asgi/` and `handlers/` are
extracted. Django's `runtests.py` then runs those two packages in a subprocess in which
`django.core.handlers.asgi.ASGIHandler` and `django.core.asgi.get_asgi_application` are
daf_drf's, so every `ASGIHandler()` and `get_asgi_application()` in Django's tests (and
every subclass they define) is the entry. Nothing from Django is committed. It takes about
15 s.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import django
import pytest

from tests.databases import on_postgres, postgres_settings

# Django's handlers tests use the database (ATOMIC_REQUESTS among them): on PostgreSQL too.
pytestmark = pytest.mark.database

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".tmp" / "django-sdist"
WANTED = ("runtests.py", "test_sqlite.py", "urls.py", "asgi/", "handlers/")

# Runs inside Django's tests directory: swap the handler in, count what the entry served,
# then hand over to Django's own runtests.py.
BOOTSTRAP = """
import atexit, os, runpy, sys
import django.core.asgi
import django.core.handlers.asgi
from daf_drf import asgi as entry

served = {"inline": 0, "stock": 0}
pool = int(os.environ.get("DAF_SUITE_POOL") or 0) or None


class SuiteASGIHandler(entry.ASGIHandler):
    def __init__(self, *, thread_pool_size=pool):
        super().__init__(thread_pool_size=thread_pool_size)

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        finally:
            for path, count in self.path_counts.items():
                served[path] += count
            self.path_counts.clear()


SuiteASGIHandler.__name__ = SuiteASGIHandler.__qualname__ = "ASGIHandler"


def get_asgi_application():
    django.setup(set_prefix=False)
    return SuiteASGIHandler()


import django
django.core.handlers.asgi.ASGIHandler = SuiteASGIHandler
django.core.asgi.get_asgi_application = get_asgi_application
atexit.register(lambda: print(f"DAF_DRF_ENTRY served={served}", flush=True))
settings = os.environ.get("DAF_SUITE_SETTINGS") or "test_sqlite"
sys.argv = ["runtests.py", "asgi", "handlers", f"--settings={settings}", "--parallel=1"]
runpy.run_path("runtests.py", run_name="__main__")
"""


def django_tests_dir() -> Path:
    """Django's tests directory for the installed version, fetched once from PyPI."""
    version = django.__version__
    target = CACHE / f"django-{version}" / "tests"
    if all((target / name).exists() for name in WANTED):
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"django-{version}.tar.gz"
    if not archive.exists():
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "--disable-pip-version-check", "-q", f"django=={version}", "-d", str(CACHE)],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if done.returncode != 0 or not archive.exists():
            pytest.fail(f"could not download the Django {version} sdist from PyPI:\n{done.stderr}")
    prefix = f"django-{version}/tests/"
    with tarfile.open(archive) as tar:
        members = [
            m
            for m in tar.getmembers()
            if m.name.startswith(prefix) and m.name[len(prefix) :].startswith(WANTED)
        ]
        tar.extractall(CACHE, members=members, filter="data")
    return target


# On the PostgreSQL pass, Django's suite runs on the throwaway server too, with test databases
# of its own (pytest-django's `test_daf_drf` exists meanwhile).
POSTGRES_SETTINGS = """
DATABASES = {{
    "default": {{**{db}, "TEST": {{"NAME": "test_django_suite_default"}}}},
    "other": {{**{db}, "TEST": {{"NAME": "test_django_suite_other"}}}},
}}
SECRET_KEY = "django_tests_secret_key"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = False
"""


def run_django_suite(pool: int | None) -> tuple[subprocess.CompletedProcess[str], str]:
    tests_dir = django_tests_dir()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tests_dir)])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env["DAF_SUITE_POOL"] = str(pool or "")
    if on_postgres():
        (tests_dir / "daf_drf_test_postgres.py").write_text(
            POSTGRES_SETTINGS.format(db=repr(postgres_settings("postgres")))
        )
        env["DAF_SUITE_SETTINGS"] = "daf_drf_test_postgres"
    done = subprocess.run(
        [sys.executable, "-c", BOOTSTRAP],
        cwd=tests_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, done.stdout + done.stderr


def test_djangos_asgi_and_handlers_tests_pass_against_the_entry() -> None:
    # Django's async tests call the handler from `async_to_sync` (a sync parent thread that
    # owns the test's connections), so the entry takes its stock hops there: this suite
    # checks the copied `handle()` and the fallback; tests/test_asgi.py covers the inline
    # path. (The thread pool also steps aside under a sync caller, so it is not run here.)
    done, output = run_django_suite(None)
    ran = re.search(r"^Ran (\d+) tests?", output, re.MULTILINE)
    served = re.search(r"DAF_DRF_ENTRY served=\{'inline': (\d+), 'stock': (\d+)\}", output)
    assert done.returncode == 0, output[-5000:]
    assert ran is not None, output[-3000:]
    assert int(ran.group(1)) >= 70, output[-3000:]
    assert re.search(r"^OK", output, re.MULTILINE), output[-3000:]
    # The entry really served Django's requests.
    assert served is not None, output[-2000:]
    assert int(served.group(1)) + int(served.group(2)) > 0, output[-2000:]
    print(f"Django {django.__version__} tests/asgi + tests/handlers: {ran.group(0)}; {served[0]}")
