"""ASGI entries: Django's stock handler, and daf_drf's entry when it is available."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")

from django.core.asgi import get_asgi_application

application = get_asgi_application()


def _fast() -> object:
    from daf_drf.asgi import get_asgi_application as get_daf_asgi_application

    return get_daf_asgi_application()


try:
    fast_application = _fast()
except ImportError:  # daf_drf.asgi not built yet: run.py reports the case as missing
    fast_application = None
