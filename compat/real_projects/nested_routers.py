"""
drf-nested-routers: its suite's viewsets on daf_drf, behind the package's routers and mixin.

The suite's viewsets (`ModelViewSet`, some with the package's `NestedViewSetMixin`, whose sync
`initial()` and `get_queryset()` call `super()`) are the project code here; the migration
(docs/migration.md, step 5) swaps their import. They have no handlers of their own, so
nothing else changes: the mixin, the routers, the serializers and every test stay as
published.

The sdist ships the test modules without their settings, pytest configuration, package marker
or the small `tests/helpers.py` they import; the harness adds those to both copies (our own
settings, modelled on the package's `rest_framework_nested/runtests/settings.py`).
"""

from __future__ import annotations

from compat.real_projects.recipe import AddFile, Edit, Recipe

CONFTEST = '''\
"""Test settings for drf-nested-routers' suite (daf_drf's harness, in both runs)."""


def pytest_configure():
    from django.conf import settings

    settings.configure(
        DEBUG_PROPAGATE_EXCEPTIONS=True,
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
        SECRET_KEY="not secret",
        ROOT_URLCONF="tests.test_viewsets",
        ALLOWED_HOSTS=["*"],
        INSTALLED_APPS=[
            "django.contrib.auth",
            "django.contrib.contenttypes",
            "django.contrib.sessions",
            "rest_framework",
            "rest_framework_nested",
            "daf_drf",
            "tests",
        ],
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
        ],
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
    )
'''

HELPERS = '''\
"""The suite's helper for URL patterns (not shipped in the sdist)."""


def get_regex_pattern(urlpattern):
    return urlpattern.pattern.regex.pattern
'''

SWAP = (
    "from rest_framework.viewsets import ModelViewSet\n",
    "from daf_drf.viewsets import ModelViewSet\n",
)

RECIPE = Recipe(
    package="drf-nested-routers",
    version="0.95.3",
    edits=(
        Edit("tests/test_viewsets.py", *SWAP),
        Edit("tests/test_routers.py", *SWAP),
        Edit("tests/test_dynamic_routers.py", *SWAP),
        # Extra actions are handlers: `async def`, with daf_drf's `action` (step 5).
        Edit(
            "tests/test_dynamic_routers.py",
            "    from rest_framework.decorators import action\n",
            "    from daf_drf.decorators import action\n",
        ),
        Edit(
            "tests/test_dynamic_routers.py",
            "        def set_password(self, request, pk=None):",
            "        async def set_password(self, request, pk=None):",
        ),
        Edit(
            "tests/test_dynamic_routers.py",
            "        def recent_users(self, request, pk=None):",
            "        async def recent_users(self, request, pk=None):",
        ),
    ),
    harness=(
        AddFile("pytest.ini", "[pytest]\n"),
        AddFile("conftest.py", CONFTEST),
        AddFile("tests/__init__.py", ""),
        # Django creates the tables of an app without migrations only if it has a models
        # module; the suite's models live in its test modules.
        AddFile("tests/models.py", ""),
        AddFile("tests/helpers.py", HELPERS),
    ),
    pytest_args=("tests",),
    min_passed=10,
)
