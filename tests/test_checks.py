"""`daf_drf.checks`: configuration errors surface at startup with stable ids."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.core import checks
from django.test import override_settings

from daf_drf.checks import (
    check_async_exception_handler,
    check_exception_handler,
    check_settings,
)


def ids(messages: list[checks.CheckMessage]) -> list[str]:
    return [message.id for message in messages if message.id is not None]


def test_no_daf_drf_setting_is_fine() -> None:
    assert check_settings() == []


@override_settings(DAF_DRF={"THROTTLE_FAILURE": "closed", "INLINE_HOOKS": []})
def test_valid_settings_pass() -> None:
    assert check_settings() == []


@override_settings(DAF_DRF=["not", "a", "dict"])
def test_a_non_dict_setting_is_e001() -> None:
    assert ids(check_settings()) == ["daf_drf.E001"]


@override_settings(DAF_DRF={"THROTTLE_FAILUR": "open"})
def test_an_unknown_key_is_e001_naming_it() -> None:
    (message,) = check_settings()
    assert message.id == "daf_drf.E001"
    assert "THROTTLE_FAILUR" in message.msg
    assert "THROTTLE_FAILURE" in (message.hint or "")


@override_settings(DAF_DRF={"THROTTLE_FAILURE": "sometimes"})
def test_an_unknown_failure_mode_is_e002() -> None:
    assert ids(check_settings()) == ["daf_drf.E002"]


@override_settings(DAF_DRF={"INLINE_HOOKS": ["tests.nowhere.pure_hook"]})
def test_an_inline_hook_that_cannot_be_imported_is_e004() -> None:
    (message,) = check_settings()
    assert message.id == "daf_drf.E004"
    assert "tests.nowhere.pure_hook" in message.msg


@override_settings(DAF_DRF={"INLINE_HOOKS": "tests.support.hooks.configured_hook"})
def test_inline_hooks_must_be_a_list_e004() -> None:
    assert ids(check_settings()) == ["daf_drf.E004"]


@override_settings(REST_FRAMEWORK={"EXCEPTION_HANDLER": "tests.nowhere.handler"})
def test_an_exception_handler_that_cannot_be_imported_is_e003() -> None:
    (message,) = check_exception_handler()
    assert message.id == "daf_drf.E003"
    assert "tests.nowhere.handler" in message.msg


@override_settings(REST_FRAMEWORK={"EXCEPTION_HANDLER": "daf_drf.exceptions.exception_handler"})
def test_an_async_exception_handler_passes() -> None:
    assert check_exception_handler() == []


ASYNC_HANDLER = {"EXCEPTION_HANDLER": "daf_drf.exceptions.exception_handler"}


@override_settings(REST_FRAMEWORK=ASYNC_HANDLER, ROOT_URLCONF="tests.checks_urls.mixed")
def test_an_async_exception_handler_with_drf_views_routed_is_e005() -> None:
    (message,) = check_async_exception_handler()
    assert message.id == "daf_drf.E005"
    assert "/legacy/" in message.msg
    assert "/new/" not in message.msg


@override_settings(REST_FRAMEWORK=ASYNC_HANDLER, ROOT_URLCONF="tests.checks_urls.migrated")
def test_an_async_exception_handler_in_a_fully_migrated_project_passes() -> None:
    assert check_async_exception_handler() == []


@override_settings(
    REST_FRAMEWORK={"EXCEPTION_HANDLER": "daf_drf.exceptions.problem_details_handler"},
    ROOT_URLCONF="tests.checks_urls.mixed",
)
def test_problem_details_serves_drf_views_too() -> None:
    assert check_async_exception_handler() == []


@override_settings(DAF_DRF={"THROTTLE_FAILURE": "sometimes"})
def test_checks_are_registered_with_django() -> None:
    assert "daf_drf.E002" in ids(checks.run_checks())


def test_the_asgi_checks_are_registered_without_importing_the_entry() -> None:
    # A project whose asgi.py is not imported by `manage.py check` (CI, a deploy hook) must
    # still see W050/E051/E052: the app config registers them, not the entry's import.
    code = (
        "import django, sys\n"
        "django.setup()\n"
        "from django.core.checks import registry\n"
        "names = {f'{c.__module__}.{c.__name__}' for c in registry.registry.get_checks()}\n"
        "print(sorted(n for n in names if n.startswith('daf_drf')))\n"
        "sys.exit(0 if 'daf_drf.asgi._checks.check_asgi' in names else 1)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
