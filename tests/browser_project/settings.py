"""
Settings of the small project the headless-browser test serves under uvicorn: `startproject`'s
apps and middleware, DRF's defaults, the books API of tests/browsable_api.py, SQLite in the
file named by `DAF_DRF_BROWSER_DB`.
"""

from __future__ import annotations

import os

from tests.support.projects import startproject_settings

globals().update(
    startproject_settings(
        ["rest_framework", "daf_drf", "tests"],
        SECRET_KEY="browser-test-only",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF="tests.browsable_api",
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": os.environ.get("DAF_DRF_BROWSER_DB", "browser.sqlite3"),
            }
        },
    )
)
