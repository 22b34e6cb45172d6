"""The opt-in ASGI entry: `from daf_drf.asgi import get_asgi_application`."""

from daf_drf.asgi._handler import ASGIHandler, get_asgi_application
from daf_drf.asgi._handler import check_asgi as check_asgi

__all__ = ["ASGIHandler", "get_asgi_application"]
