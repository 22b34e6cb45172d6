"""
`daf_drf.checks.registry`: one table of check ids, registered once, from the app config.

With `"daf_drf"` in `INSTALLED_APPS`, `manage.py check` runs every check of the table whichever
daf_drf modules the project imports (the ASGI entry's too, though `manage.py` never imports
the project's asgi.py); importing a module registers nothing; docs/checks.md lists the same
ids.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import SyncToAsync
from django.core import checks
from django.test import override_settings
from django.urls import clear_url_caches

from daf_drf.checks.registry import CHECKS, URL_CHECKS, check_functions, register_checks
from tests.checks_urls import tripwire

ROOT = Path(__file__).resolve().parent.parent


def run_python(code: str, *args: str, settings: str | None = "tests.settings") -> Any:
    """Run `code` in a fresh interpreter; return the JSON it prints last."""
    env = {**os.environ}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if settings:
        env["DJANGO_SETTINGS_MODULE"] = settings
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def daf_drf_ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [m.id for m in messages if m.id and m.id.startswith("daf_drf.")]


# --- the table --------------------------------------------------------------------------------


def test_each_id_is_listed_once_with_the_level_its_letter_says() -> None:
    ids = [entry.id for entry in CHECKS]
    assert len(ids) == len(set(ids))
    for entry in CHECKS:
        assert re.fullmatch(r"daf_drf\.[EW]\d{3}", entry.id), entry.id
        assert entry.level == {"E": "error", "W": "warning"}[entry.id[8]], entry.id


def test_docs_checks_md_lists_the_ids_of_the_table_at_the_same_levels() -> None:
    text = (ROOT / "docs" / "checks.md").read_text()
    documented = dict(re.findall(r"^\| `(daf_drf\.[EW]\d{3})` \| (error|warning) \|", text, re.M))
    assert documented == {entry.id: entry.level for entry in CHECKS}


def test_url_checks_are_functions_of_the_table() -> None:
    assert URL_CHECKS.issubset(entry.check for entry in CHECKS)


@override_settings(
    ROOT_URLCONF="tests.checks_urls.tripwire",
    DEBUG=False,
    # An async handler: E005 looks at routed views only then.
    REST_FRAMEWORK={"EXCEPTION_HANDLER": "daf_drf.exceptions.exception_handler"},
)
def test_exactly_the_checks_that_walk_the_urlconf_are_tagged_urls() -> None:
    walking = set()
    for path, function in check_functions():
        clear_url_caches()
        tripwire.reads.clear()
        function(app_configs=None, databases=None)
        if tripwire.reads:
            walking.add(path)
    assert walking == URL_CHECKS
    for path, function in check_functions():
        tags = getattr(function, "tags", None)
        assert tags == ((checks.Tags.urls,) if path in URL_CHECKS else ()), path


# --- registration -----------------------------------------------------------------------------

REGISTERED = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
import django
django.setup()
from django.core.checks import registry
registered = registry.registry.get_checks(include_deployment_checks=True)
from django.utils.module_loading import import_string
from daf_drf.checks.registry import CHECKS
table = {entry.check: import_string(entry.check) for entry in CHECKS}
print(json.dumps({
    "missing": sorted(e.id for e in CHECKS if table[e.check] not in registered),
    "unlisted": sorted(
        f"{f.__module__}.{f.__name__}" for f in registered
        if f.__module__.startswith("daf_drf") and f not in table.values()
    ),
}))
"""


@pytest.mark.parametrize(
    "imported",
    [(), ("daf_drf.views",), ("daf_drf.asgi",)],
    ids=["nothing", "daf_drf.views", "daf_drf.asgi"],
)
def test_every_id_of_the_table_is_registered_whichever_modules_the_project_imports(
    imported: tuple[str, ...],
) -> None:
    # The project's modules import daf_drf's before `django.setup()` (an asgi.py does).
    found = run_python(REGISTERED, *imported)
    assert found == {"missing": [], "unlisted": []}


UNINSTALLED = """
import importlib, json, pkgutil
from django.conf import settings
settings.configure(
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    ROOT_URLCONF="tests.checks_urls.mixed",
)
import django
django.setup()
import daf_drf
names = [info.name for info in pkgutil.walk_packages(daf_drf.__path__, "daf_drf.")]
# The ASGI entry still registers its own check when imported (a set: harmless next to the
# app config's registration); every other module must not.
imported = [name for name in names if not name.startswith("daf_drf.asgi")]
for name in imported:
    importlib.import_module(name)
from django.core.checks import registry
print(json.dumps({
    "imported": imported,
    "registered": sorted(
        f"{f.__module__}.{f.__name__}"
        for f in registry.registry.get_checks(include_deployment_checks=True)
        if f.__module__.startswith("daf_drf")
    ),
}))
"""


def test_importing_daf_drf_modules_registers_no_check_without_the_app() -> None:
    found = run_python(UNINSTALLED, settings=None)
    assert "daf_drf.checks.registry" in found["imported"]
    assert "daf_drf.views" in found["imported"]
    assert found["registered"] == []


@override_settings(DAF_DRF={"THROTTLE_FAILURE": "sometimes", "ASGI_THREAD_POOL_SIZE": "x"})
def test_registering_again_does_not_duplicate_a_message() -> None:
    # The ASGI entry's check is registered by its import and by the app config: one message.
    import daf_drf.asgi  # noqa: F401

    register_checks()
    register_checks()
    found = daf_drf_ids(checks.run_checks())
    assert found.count("daf_drf.E002") == 1
    assert found.count("daf_drf.E051") == 1


@override_settings(DAF_DRF={"ASGI_THREAD_POOL_SIZE": 4})
def test_a_thread_pool_without_asgirefs_executor_registry_is_e052(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert "daf_drf.E052" not in daf_drf_ids(checks.run_checks())
    # An asgiref that no longer keeps its per-context executor registry.
    monkeypatch.setattr(SyncToAsync, "context_to_thread_executor", {})
    assert "daf_drf.E052" in daf_drf_ids(checks.run_checks())


# --- the old module paths ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("permission_checks", "permissions", "is_async_permission"),
        ("generics_checks", "generics", "check_async_get_queryset"),
        ("throttling_checks", "throttling", "check_throttle_rates"),
    ],
)
def test_the_old_check_modules_resolve_their_names_with_a_deprecation_warning(
    old: str, new: str, name: str
) -> None:
    import importlib

    module = importlib.import_module(f"daf_drf.{old}")
    with pytest.warns(DeprecationWarning, match=f"daf_drf.checks.{new}"):
        found = getattr(module, name)
    assert found is getattr(importlib.import_module(f"daf_drf.checks.{new}"), name)
    with pytest.raises(AttributeError):
        module.not_there  # noqa: B018
