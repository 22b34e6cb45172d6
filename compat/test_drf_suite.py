"""
DRF's own tests of throttling, permissions, views, decorators and exceptions, adapted to
async views, pass on daf_drf with WSGI-built and with ASGI-built requests.

The installed DRF's sdist is fetched from PyPI (cached in `.tmp/real-projects/`) and only its
`tests/` directory is extracted. `compat/drf_suite/adapt.py` is the adaptation (the recipe:
the import swap to daf_drf, `async def` handlers and, for the ASGI run, daf_drf's
`AsyncAPIRequestFactory` in place of `APIRequestFactory`). The unmodified modules run on DRF in
the same environment (the oracle), the adapted ones on daf_drf, in subprocesses; the bar is
0 failures and every test that passes on DRF passing on daf_drf. The run must have dispatched
requests through daf_drf, and in the ASGI run every one of them must have been an
`ASGIRequest`.
"""

from __future__ import annotations

import pytest

from compat.drf_suite.recipes import RECIPES
from compat.real_projects.recipe import Recipe, compare, summary

pytestmark = [pytest.mark.third_party_suite, pytest.mark.timeout(900)]


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda recipe: f"{recipe.variant}-requests")
def test_drfs_own_tests_pass_on_async_views(recipe: Recipe) -> None:
    result = compare(recipe)
    report = (
        f"DRF {recipe.version} tests ({recipe.variant} requests): DRF {summary(result.drf)}; "
        f"daf_drf {summary(result.daf)}; daf_drf dispatched {result.daf.dispatched} requests, "
        f"{result.daf.asgi_requests} of them ASGIRequests"
    )
    print(report)
    assert len(result.drf.with_outcome("passed")) >= recipe.min_passed, result.drf.output[-4000:]
    failed = result.daf.with_outcome("failed") - set(recipe.exceptions)
    assert not failed, (report, sorted(failed), result.daf.output[-6000:])
    assert not result.regressions, (report, sorted(result.regressions))
    assert not result.stale_exceptions, (report, sorted(result.stale_exceptions))
    assert set(result.daf.outcomes) == set(result.drf.outcomes), report
    assert result.daf.returncode == 0 or recipe.exceptions, result.daf.output[-4000:]
    assert result.daf.dispatched > 0, report
    if recipe.variant == "asgi":
        assert result.daf.asgi_requests == result.daf.dispatched, report
    else:
        assert result.daf.asgi_requests == 0, report
    for run in (result.drf, result.daf):
        assert "was never awaited" not in run.output, run.output[-4000:]
