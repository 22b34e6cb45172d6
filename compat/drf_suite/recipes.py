"""
The runs of DRF's own tests: the installed DRF's sdist, its `tests/` only, adapted by
`adapt.py` once with WSGI-built requests (DRF's `APIRequestFactory`) and once with ASGI-built
ones (daf_drf's `AsyncAPIRequestFactory`).
"""

from __future__ import annotations

import rest_framework

from compat.drf_suite.adapt import MODULES, adapt_tree
from compat.real_projects.recipe import AddFile, Recipe

# node id -> why it passes on DRF and not on daf_drf.
EXCEPTIONS: dict[str, str] = {}


def drf_recipe(variant: str) -> Recipe:
    asgi = variant == "asgi"
    return Recipe(
        package="djangorestframework",
        version=rest_framework.__version__,
        edits=(),
        adapt=lambda tree: adapt_tree(tree, MODULES, asgi=asgi),
        members=("tests/",),
        harness=(AddFile("pytest.ini", "[pytest]\n"),),
        pytest_args=MODULES,
        exceptions=EXCEPTIONS,
        min_passed=100,
        variant=variant,
    )


RECIPES = [drf_recipe("wsgi"), drf_recipe("asgi")]
