"""`daf_drf.settings.daf_settings`: the `DAF_DRF` dict, its defaults and `override_settings`."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.settings import api_settings

from daf_drf.settings import DEFAULTS, daf_settings
from tests.support.hooks import IOPermission, configured_hook


def test_unset_keys_fall_back_to_the_documented_defaults() -> None:
    assert daf_settings.THROTTLE_FAILURE == DEFAULTS["THROTTLE_FAILURE"] == "open"
    assert daf_settings.INLINE_HOOKS == []


def test_override_settings_is_honoured_and_undone() -> None:
    with override_settings(DAF_DRF={"THROTTLE_FAILURE": "closed"}):
        assert daf_settings.THROTTLE_FAILURE == "closed"
    assert daf_settings.THROTTLE_FAILURE == "open"


def test_dotted_paths_are_imported() -> None:
    paths = ["tests.support.hooks.configured_hook", "tests.support.hooks.IOPermission"]
    with override_settings(DAF_DRF={"INLINE_HOOKS": paths}):
        assert [configured_hook, IOPermission] == daf_settings.INLINE_HOOKS


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="Invalid daf_drf setting: 'NOPE'"):
        daf_settings.NOPE  # noqa: B018


@override_settings(DAF_DRF="closed")
def test_a_non_dict_setting_is_improperly_configured() -> None:
    with pytest.raises(ImproperlyConfigured, match="must be a dict"):
        daf_settings.THROTTLE_FAILURE  # noqa: B018


def test_drfs_own_settings_stay_in_rest_framework() -> None:
    with override_settings(REST_FRAMEWORK={"NUM_PROXIES": 2}):
        assert api_settings.NUM_PROXIES == 2
        with pytest.raises(AttributeError):
            daf_settings.NUM_PROXIES  # noqa: B018
