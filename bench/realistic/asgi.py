"""ASGI entries: Django's stock handler (`application`) and daf_drf's (`fast_application`)."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.realistic.settings")

if os.environ.get("BENCH_ENTRY") == "daf":
    from daf_drf.asgi import get_asgi_application
else:
    from django.core.asgi import get_asgi_application

application = get_asgi_application()
