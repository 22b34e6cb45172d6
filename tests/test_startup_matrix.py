"""
Start-up matrix: every public daf_drf class in every DRF setting that can name it.

A project that writes `"daf_drf.authentication.SessionAuthentication"` in
`DEFAULT_AUTHENTICATION_CLASSES` (as docs/authentication.md shows) must start, whatever the
order of `"daf_drf"` and `"rest_framework"` in `INSTALLED_APPS` and whichever way it starts:
DRF resolves these settings while `rest_framework.views` is being imported, so an import cycle
through daf_drf shows only in a fresh interpreter, and only on the path that imports first.

The cases are found, not listed: every class (or exception handler, or middleware) that a
daf_drf module exports and defines is matched to the settings whose base class it has
(`BaseAuthentication` -> `DEFAULT_AUTHENTICATION_CLASSES`, ...). Every case runs in a fresh
interpreter (`tests/startup_project/start.py`) for each `INSTALLED_APPS` order and each way of
starting: `manage.py check`, `runserver` (WSGI handler, first request, which imports the
URLconf), `daf_drf.asgi.get_asgi_application()` and Django's `get_asgi_application()` (first
requests). The first requests reach a daf_drf view and a DRF view; after start-up the child
checks that DRF's settings resolve to the named objects.

A list setting gets all the classes of one daf_drf module at once: the import chain (what this
matrix is about) is the module's, the same for each of its classes; each class is still
resolved and compared by the child. The interpreters run in parallel.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from rest_framework import (
    authentication,
    filters,
    metadata,
    negotiation,
    pagination,
    parsers,
    permissions,
    renderers,
    throttling,
    versioning,
)
from rest_framework.schemas.inspectors import ViewInspector
from rest_framework.settings import IMPORT_STRINGS

import daf_drf

# The whole matrix runs in the first test's setup: allow it more than the default 300 s on a
# loaded machine (about 20 s on an idle two-core one).
pytestmark = [pytest.mark.startup_matrix, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parent.parent
ORDERS = ("daf_drf-first", "rest_framework-first")
ENTRIES = ("check", "runserver", "daf-asgi", "django-asgi")

# DRF setting -> the base class of what it names.
CLASS_SETTINGS: dict[str, type] = {
    "DEFAULT_RENDERER_CLASSES": renderers.BaseRenderer,
    "DEFAULT_PARSER_CLASSES": parsers.BaseParser,
    "DEFAULT_AUTHENTICATION_CLASSES": authentication.BaseAuthentication,
    "DEFAULT_PERMISSION_CLASSES": permissions.BasePermission,
    "DEFAULT_THROTTLE_CLASSES": throttling.BaseThrottle,
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": negotiation.BaseContentNegotiation,
    "DEFAULT_METADATA_CLASS": metadata.BaseMetadata,
    "DEFAULT_VERSIONING_CLASS": versioning.BaseVersioning,
    "DEFAULT_PAGINATION_CLASS": pagination.BasePagination,
    "DEFAULT_FILTER_BACKENDS": filters.BaseFilterBackend,
    "DEFAULT_SCHEMA_CLASS": ViewInspector,
    "TEST_REQUEST_RENDERER_CLASSES": renderers.BaseRenderer,
}
# Settings naming functions: the exception handler is daf_drf's business; the others
# (anonymous user and token factories, view name and description) have no daf_drf version.
FUNCTION_SETTINGS = {
    "EXCEPTION_HANDLER",
    "UNAUTHENTICATED_USER",
    "UNAUTHENTICATED_TOKEN",
    "VIEW_NAME_FUNCTION",
    "VIEW_DESCRIPTION_FUNCTION",
}
# Objects that cannot serve views still dispatched by DRF: in this project (which has DRF
# views), `manage.py check` must refuse them with daf_drf's stable id, and the entries that
# skip the checks must still start.
EXPECTED_CHECK_ERRORS = {
    # Async only: DRF's sync throttle check would take the coroutine as True.
    "daf_drf.throttling.BaseThrottle": "daf_drf.E024",
    # Async: DRF views call the exception handler synchronously.
    "daf_drf.exceptions.exception_handler": "daf_drf.E005",
}
LIST_SETTINGS = {name for name in CLASS_SETTINGS if name.endswith(("_CLASSES", "_BACKENDS"))}


def public_objects() -> Iterator[tuple[str, Any]]:
    """
    (dotted path, object) of everything a daf_drf module exports, re-exports included: a
    setting names a path, and the path's import chain is what is tested.
    """
    for info in pkgutil.iter_modules(daf_drf.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"daf_drf.{info.name}")
        for name in getattr(module, "__all__", ()):
            yield f"{module.__name__}.{name}", getattr(module, name)


def is_exception_handler(obj: Any) -> bool:
    if not inspect.isfunction(obj):
        return False
    return list(inspect.signature(obj).parameters) == ["exc", "context"]


def _values(case: dict[str, Any]) -> list[str]:
    value = case["value"]
    if isinstance(value, dict):
        return []
    return value if isinstance(value, list) else [value]


def matrix_cases() -> list[dict[str, Any]]:
    """One case per (setting, daf_drf module) for list settings, per object otherwise."""
    by_setting: dict[tuple[str, str], list[str]] = {}
    for path, obj in public_objects():
        module = path.rpartition(".")[0]
        for setting, base in CLASS_SETTINGS.items():
            if inspect.isclass(obj) and issubclass(obj, base):
                grouped = setting in LIST_SETTINGS and path not in EXPECTED_CHECK_ERRORS
                key = (setting, module) if grouped else (setting, path)
                by_setting.setdefault(key, []).append(path)
        if is_exception_handler(obj):
            by_setting[("EXCEPTION_HANDLER", path)] = [path]
        if inspect.isclass(obj) and obj.__name__.endswith("Middleware"):
            by_setting[("MIDDLEWARE", path)] = [path]
    cases = []
    for (setting, _), paths in sorted(by_setting.items()):
        value: Any = paths if setting in LIST_SETTINGS else paths[0]
        cases.append({"setting": setting, "value": value})
    # A project that went all the way: daf_drf in every setting at once (what it can hold
    # while some views are still DRF's).
    everything: dict[str, Any] = {}
    for case in cases:
        if set(_values(case)) & set(EXPECTED_CHECK_ERRORS):
            continue
        if case["setting"] in LIST_SETTINGS or case["setting"] == "MIDDLEWARE":
            everything.setdefault(case["setting"], []).extend(_values(case))
        else:
            everything.setdefault(case["setting"], case["value"])
    cases.append({"setting": "ALL", "value": everything})
    return cases


CASES = matrix_cases()
RUNS = [
    {**case, "order": order, "entry": entry}
    for case in CASES
    for order in ORDERS
    for entry in ENTRIES
]


def run_id(run: dict[str, Any]) -> str:
    value = run["value"]
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else value[0].rpartition(".")[0]
    elif isinstance(value, dict):
        value = "daf_drf"
    return f"{run['setting']}={value}-{run['order']}-{run['entry']}"


def start(run: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    case = {"setting": run["setting"], "value": run["value"], "order": run["order"]}
    env = {**os.environ, "DAF_STARTUP_CASE": json.dumps(case), "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [
        sys.executable, "-W", "error::RuntimeWarning", "-m", "tests.startup_project.start",
        run["entry"],
    ]  # fmt: skip
    try:
        return subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False
        )
    except subprocess.TimeoutExpired as exc:
        # Reported by this run's test alone, not as an error of the whole matrix.
        return subprocess.CompletedProcess(command, -1, "", f"timed out: {exc}")


@pytest.fixture(scope="module")
def outcomes() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every run of the matrix, in parallel, once for the module."""
    workers = max(2, 2 * (os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = list(pool.map(start, RUNS))
    return {run_id(run): outcome for run, outcome in zip(RUNS, done, strict=True)}


def test_the_matrix_covers_every_drf_setting_that_names_classes_or_functions() -> None:
    assert set(IMPORT_STRINGS) <= set(CLASS_SETTINGS) | FUNCTION_SETTINGS


def test_every_run_has_its_own_name() -> None:
    assert len({run_id(run) for run in RUNS}) == len(RUNS)


def test_the_matrix_finds_the_documented_classes() -> None:
    found = {(case["setting"], value) for case in CASES for value in _values(case)}
    documented = {
        ("DEFAULT_AUTHENTICATION_CLASSES", "daf_drf.authentication.SessionAuthentication"),
        ("DEFAULT_AUTHENTICATION_CLASSES", "daf_drf.authentication.TokenAuthentication"),
        ("DEFAULT_PERMISSION_CLASSES", "daf_drf.permissions.IsAuthenticated"),
        ("DEFAULT_PERMISSION_CLASSES", "daf_drf.permissions.DjangoModelPermissions"),
        ("DEFAULT_THROTTLE_CLASSES", "daf_drf.throttling.AnonRateThrottle"),
        ("DEFAULT_THROTTLE_CLASSES", "daf_drf.throttling.ScopedRateThrottle"),
        ("EXCEPTION_HANDLER", "daf_drf.exceptions.exception_handler"),
        ("EXCEPTION_HANDLER", "daf_drf.exceptions.problem_details_handler"),
        ("MIDDLEWARE", "daf_drf.throttling_headers.RateLimitHeadersMiddleware"),
    }
    assert documented <= found, documented - found


@pytest.mark.parametrize("run", RUNS, ids=run_id)
def test_the_project_starts(
    run: dict[str, Any], outcomes: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    outcome = outcomes[run_id(run)]
    output = outcome.stdout + outcome.stderr
    refused = {EXPECTED_CHECK_ERRORS.get(value) for value in _values(run)} - {None}
    if refused and run["entry"] == "check":
        # Refused by the system check with its stable id, and by nothing else.
        assert outcome.returncode == 1, output[-4000:]
        assert "SystemCheckError" in output, output[-4000:]
        assert set(re.findall(r"\((\S+\.[EW]\d{3})\)", output)) == refused, output[-4000:]
        return
    assert outcome.returncode == 0, output[-4000:]
    assert "STARTUP-OK" in outcome.stdout, output[-4000:]
    assert "was never awaited" not in output, output[-4000:]
