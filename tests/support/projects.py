"""
The settings `django-admin startproject` writes, for the projects the tests and benchmarks
start: the contrib apps, the seven middleware, the template engine, the password validators,
i18n and time zone, static files. Standard library only, so `bench/` uses it too.

    globals().update(
        startproject_settings(
            ["rest_framework", "daf_drf", "myapp"],
            SECRET_KEY="not-secret",
            ROOT_URLCONF="myapp.urls",
        )
    )
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: `startproject`'s `INSTALLED_APPS`.
STARTPROJECT_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

#: `startproject`'s `MIDDLEWARE`, in its order.
STARTPROJECT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

_VALIDATION = "django.contrib.auth.password_validation"


def startproject_settings(apps: Iterable[str] = (), **settings: Any) -> dict[str, Any]:
    """
    A fresh copy of `startproject`'s settings with `apps` after its `INSTALLED_APPS`, and
    `settings` (upper-case names, e.g. `ROOT_URLCONF`, `DATABASES`) set on top.

    `DEBUG` is off, as in production; every list and dict is new, so a caller may change it.
    """
    project: dict[str, Any] = {
        "SECRET_KEY": "startproject-not-secret",
        "DEBUG": False,
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost", "testserver"],
        "INSTALLED_APPS": [*STARTPROJECT_APPS, *apps],
        "MIDDLEWARE": list(STARTPROJECT_MIDDLEWARE),
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ],
                },
            },
        ],
        "DATABASES": {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        "AUTH_PASSWORD_VALIDATORS": [
            {"NAME": f"{_VALIDATION}.UserAttributeSimilarityValidator"},
            {"NAME": f"{_VALIDATION}.MinimumLengthValidator"},
            {"NAME": f"{_VALIDATION}.CommonPasswordValidator"},
            {"NAME": f"{_VALIDATION}.NumericPasswordValidator"},
        ],
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        "STATIC_URL": "static/",
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
    }
    for name in settings:
        if not name.isupper():
            raise TypeError(f"startproject_settings() takes setting names, got {name!r}")
    project.update(settings)
    return project
