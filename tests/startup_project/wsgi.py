"""WSGI entry of the start-up matrix project, as `startproject` writes it."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.startup_project.settings")
application = get_wsgi_application()
