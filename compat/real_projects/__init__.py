"""
Real projects' own test suites, run against a daf_drf migration of their views.

Each module here is the recipe for one package published on PyPI with its test suite in its
sdist: which version, which edits migrate it (following docs/migration.md: the import swap,
`async def` handlers, the async helpers the guide names), how its suite is run, and the
documented exceptions. `recipe.py` fetches, patches, runs and compares;
`compat/test_real_projects.py` is the test. No third-party code is committed.
"""
