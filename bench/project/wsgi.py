"""WSGI entry for DRF under gunicorn."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
