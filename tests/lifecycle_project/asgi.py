"""uvicorn factories: Django's stock handler, or daf_drf's entry (pool from settings)."""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.lifecycle_project.settings")


def stock() -> Any:
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


def entry() -> Any:
    from daf_drf.asgi import get_asgi_application

    return get_asgi_application()
