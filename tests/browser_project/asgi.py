"""
ASGI entry of the browser-test project, as docs/deployment.md's "Static files" section shows
it: daf_drf's entry, wrapped in Django's `ASGIStaticFilesHandler` so the browsable API's CSS and
JavaScript are served by the same process.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.browser_project.settings")

import django

django.setup()

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from daf_drf.asgi import get_asgi_application  # noqa: E402

application = ASGIStaticFilesHandler(get_asgi_application())
