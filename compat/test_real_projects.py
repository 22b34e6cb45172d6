"""
Real projects' own test suites, migrated to daf_drf, pass wherever they pass on DRF.

For each recipe in `compat/real_projects/` the package's sdist is fetched from PyPI (cached in
`.tmp/real-projects/`), its suite runs once as published (DRF: the oracle) and once after the
recipe's migration (daf_drf), in subprocesses of this interpreter. Every test that passes on
DRF must pass on daf_drf, except the recipe's documented exceptions (each of which must really
fail, so the list stays true); the daf_drf run must have dispatched requests through daf_drf,
the DRF run none; no coroutine may go unawaited in either. See compat/README.md to add a
project.
"""

from __future__ import annotations

import pytest

from compat.real_projects import nested_routers, simplejwt
from compat.real_projects.recipe import Recipe, compare, summary

pytestmark = [pytest.mark.third_party_suite, pytest.mark.timeout(900)]

RECIPES = [simplejwt.RECIPE, nested_routers.RECIPE]


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda recipe: recipe.package)
def test_the_migrated_suite_passes_where_drf_passes(recipe: Recipe) -> None:
    result = compare(recipe)
    report = (
        f"{recipe.slug}: DRF {summary(result.drf)}; daf_drf {summary(result.daf)}; "
        f"daf_drf dispatched {result.daf.dispatched} requests"
    )
    print(report)
    assert len(result.drf.with_outcome("passed")) >= recipe.min_passed, result.drf.output[-4000:]
    assert not result.regressions, (report, sorted(result.regressions), result.daf.output[-6000:])
    assert not result.stale_exceptions, (report, sorted(result.stale_exceptions))
    # The same tests ran on both sides.
    assert set(result.daf.outcomes) == set(result.drf.outcomes), report
    assert result.daf.dispatched > 0, report
    assert result.drf.dispatched == 0, report
    for run in (result.drf, result.daf):
        assert "was never awaited" not in run.output, run.output[-4000:]
