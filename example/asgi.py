"""
ASGI entry of the demo: `uvicorn example.asgi:application`.

daf_drf's ASGI handler serves async endpoints without Django's per-request thread; the
static-files wrapper serves the browsable API's CSS and JavaScript without a web server.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example.settings")

import django

django.setup()

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from daf_drf.asgi import get_asgi_application  # noqa: E402

application = ASGIStaticFilesHandler(get_asgi_application())
