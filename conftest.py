"""Plugins for every test directory (`tests/`, `compat/`)."""

pytest_plugins = ["tests.unawaited"]
