"""ASGI entry point of the uvicorn end-to-end project."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.e2e_project.settings")
application = get_asgi_application()
