"""
djangorestframework-simplejwt: its token views on daf_drf.

The migration, as docs/migration.md describes it for a generic view:
- `rest_framework_simplejwt/views.py`: `generics` from daf_drf, the `post` handler
  `async def`, and the serializer (whose validation authenticates the user and reads the
  blacklist: database queries) validated with `await ais_valid(...)` (migration guide, step 4);
- `tests/views.py`, the project view of the suite (an `APIView` behind `JWTAuthentication`
  and `IsAuthenticated`): the import swap and `async def get`.
Everything else is unchanged: the serializers, `JWTAuthentication` (a sync DRF
authenticator, used as is in a daf_drf view), settings, URLs, and every test (they use DRF's
`APIClient`, `APIRequestFactory` and call views directly, sync).
"""

from __future__ import annotations

from compat.real_projects.recipe import Edit, Recipe

RECIPE = Recipe(
    package="djangorestframework-simplejwt",
    version="5.5.1",
    edits=(
        Edit(
            "rest_framework_simplejwt/views.py",
            "from rest_framework import generics, status\n",
            "from rest_framework import status\n\n"
            "from daf_drf import generics\n"
            "from daf_drf.serializers import ais_valid\n",
        ),
        Edit(
            "rest_framework_simplejwt/views.py",
            "    def post(self, request: Request, *args, **kwargs) -> Response:",
            "    async def post(self, request: Request, *args, **kwargs) -> Response:",
        ),
        Edit(
            "rest_framework_simplejwt/views.py",
            "            serializer.is_valid(raise_exception=True)",
            "            await ais_valid(serializer, raise_exception=True)",
        ),
        Edit(
            "tests/views.py",
            "from rest_framework.views import APIView\n",
            "from daf_drf.views import APIView\n",
        ),
        Edit("tests/views.py", "    def get(self, request):", "    async def get(self, request):"),
    ),
    pytest_args=("tests",),
    min_passed=150,
)
