"""
Reliability item 8: no `SynchronousOnlyOperation` on any documented path.

One systematic sweep with `DJANGO_ALLOW_ASYNC_UNSAFE` removed from the environment, every
request sent as a server sends it (scope, receive, send) through Django's real `ASGIHandler`
inside `TestCase` async test methods, and again through daf_drf's own ASGI entry
(`daf_drf.asgi`, with and without its thread pool) on a fresh event loop thread, as under
uvicorn, with committed data (`TransactionTestCase`). The families (see `safety_cases.py`):

- authenticators (daf_drf's Session with a database session and CSRF, Token, Basic, their
  subclasses with sync overrides, DRF's own three, a project's sync ORM authenticator, an
  `async def authenticate`, all of them at once) x identities (permitted, unpermitted,
  anonymous, bad credentials) x permissions (`IsAuthenticated`, sync ORM, async ORM, a
  composite of `&`, `|`, `~` mixing them) x GET/POST; CSRF by cookie and in the session;
- an `@api_view` function view; views written for DRF with sync overrides of dispatch steps;
- throttles (daf_drf's Anon/User/Scoped and a project's subclass with a sync ORM key) on every
  store (default LocMem cache, `cache://` on a `DatabaseCache`, `memory://`, a real Redis),
  fail-closed so that a store error is a wrong status; DRF-written sync throttles; an async
  ORM throttle;
- exception handlers (DRF's, daf_drf's async default, sync and async ORM-writing ones,
  `problem_details_handler`) x error paths (404, 401, 429, 400, unhandled);
- `ModelViewSet`s behind `DefaultRouter`: pagination, search, ordering, django-filter,
  `DjangoModelPermissions` (daf_drf's and DRF's import), sync and async object permissions,
  an async `SerializerMethodField`, an `aget_object` action, with sync and with async hooks;
- `enqueue_response` on the immediate task backend and the task status view.

Each case asserts its exact status and the body facts that prove the path ran; a case fails on
any `SynchronousOnlyOperation` constructed in any thread (so a swallowed one counts), logged,
or named in the body, and on any 500 but the unhandled-error path's. Negative controls prove
the detector catches an unsafe view, a swallowed error, a misclassified hook and a failing
store. The last test prints how many cases ran.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.core.cache import caches
from django.core.handlers.asgi import ASGIHandler
from django.core.management import call_command
from django.db import connections
from django.test import SimpleTestCase, TestCase, TransactionTestCase, override_settings

from daf_drf import asgi as daf_asgi
from daf_drf._tasks_compat import TASKS_MODULE
from daf_drf.backends import get_store
from tests.asgi_client import run_on_fresh_loop
from tests.reliability import safety_cases as cases
from tests.reliability import safety_hooks as hooks
from tests.reliability.safety_sweep import (
    ENV,
    Case,
    Fixtures,
    Sweep,
    create_fixtures,
    detect_sync_only,
    judge,
    serve,
)

RATELIMIT_MIDDLEWARE = "daf_drf.throttling.RateLimitHeadersMiddleware"
SESSION_MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    RATELIMIT_MIDDLEWARE,
]

SWEEP_SETTINGS = override_settings(
    ROOT_URLCONF="tests.reliability.safety_views",
    MIDDLEWARE=SESSION_MIDDLEWARE,
    DEBUG=False,
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "sweepdb": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "daf_sweep_cache",
        },
    },
    # A throttle store error must show up as a wrong status (429), never be admitted.
    DAF_DRF={"THROTTLE_FAILURE": "closed"},
    TASKS={"default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"}},
)

# Cases run per ASGI application and family, for the summary at the end of the module.
CASES_RUN: dict[str, dict[str, int]] = {
    "django": {},
    "daf_drf": {},
    "daf_drf pool": {},
    "daf_drf opt-out": {},
}


class SweepEnvironment(SimpleTestCase):
    """`DJANGO_ALLOW_ASYNC_UNSAFE` unset, the cache table made, the in-process stores empty."""

    redis_url: str

    @pytest.fixture(autouse=True)
    def _redis(self, clean_redis: str) -> None:
        self.redis_url = clean_redis

    def setUp(self) -> None:
        # A sync ORM call on the loop must raise, so that the sweep can see it.
        self._saved_env = os.environ.pop(ENV, None)
        assert ENV not in os.environ
        call_command("createcachetable", "daf_sweep_cache", verbosity=0)
        caches["default"].clear()
        caches["sweepdb"].clear()
        get_store("memory://").clear()

    def tearDown(self) -> None:
        if self._saved_env is not None:
            os.environ[ENV] = self._saved_env


# --- through Django's ASGIHandler, in TestCase async test methods --------------------------------


@SWEEP_SETTINGS
class TestSweepThroughDjangosASGIHandler(SweepEnvironment, TestCase):
    fx: Fixtures

    @classmethod
    def setUpTestData(cls) -> None:
        cls.fx = create_fixtures()

    def sweep(self) -> Sweep:
        assert ENV not in os.environ
        return Sweep(ASGIHandler(), own_connections=False, counts=CASES_RUN["django"])

    async def check(self, family: Callable[[Sweep], Awaitable[None]]) -> Sweep:
        sweep = self.sweep()
        await family(sweep)
        sweep.raise_failures()
        return sweep

    async def test_every_authenticator_identity_and_permission(self) -> None:
        await self.check(lambda s: cases.auth_permission(s, self.fx))

    async def test_csrf_by_cookie_and_in_the_session(self) -> None:
        await self.check(lambda s: cases.csrf(s, self.fx))
        await self.check(lambda s: cases.csrf_in_session(s, self.fx))

    async def test_api_view_function_view(self) -> None:
        await self.check(lambda s: cases.api_view(s, self.fx))

    async def test_sync_overrides_of_dispatch_steps(self) -> None:
        await self.check(lambda s: cases.overrides(s, self.fx))

    async def test_every_throttle_on_every_store(self) -> None:
        await self.check(lambda s: cases.throttles(s, self.redis_url))

    async def test_throttles_written_for_drf_and_async_throttles(self) -> None:
        await self.check(cases.project_throttles)

    # The deprecated async `daf_drf.exceptions.exception_handler` is one of the handlers swept.
    @pytest.mark.filterwarnings(
        "ignore:daf_drf.exceptions.exception_handler is deprecated:DeprecationWarning"
    )
    async def test_every_exception_handler_on_every_error_path(self) -> None:
        await self.check(cases.exception_handlers)

    async def test_model_viewset_with_drfs_sync_hooks(self) -> None:
        await self.check(lambda s: cases.viewset(s, self.fx, "books"))

    async def test_model_viewset_with_async_hooks(self) -> None:
        await self.check(lambda s: cases.viewset(s, self.fx, "abooks"))

    async def test_drfs_own_model_permissions_with_async_get_queryset(self) -> None:
        # `rest_framework.permissions.DjangoModelPermissions` calls `view.get_queryset()`
        # itself; with `async def get_queryset` daf_drf awaits it in the check's thread.
        await self.check(lambda s: cases.viewset(s, self.fx, "drfbooks"))

    async def test_enqueue_response_and_the_task_status_view(self) -> None:
        await self.check(lambda s: cases.tasks(s, self.fx))

    async def test_the_browsable_api(self) -> None:
        await self.check(lambda s: cases.browsable_api(s, self.fx))

    async def test_serializer_helpers_and_transactions(self) -> None:
        await self.check(lambda s: cases.serializers_and_transactions(s, self.fx))


# --- through daf_drf's ASGI entry, on a server's event loop thread -------------------------------


# Outermost, so that it wins over SWEEP_SETTINGS' MIDDLEWARE.
@override_settings(MIDDLEWARE=[RATELIMIT_MIDDLEWARE])
@SWEEP_SETTINGS
class TestSweepThroughDafDrfsASGIEntry(SweepEnvironment, TransactionTestCase):
    """
    As a server runs it: a fresh loop thread (no `async_to_sync` caller), Django's
    `close_old_connections` receivers connected, committed data; sync hops run in the
    request's own thread-sensitive thread with its own database connection.

    Django's session middleware is sync (it binds a thread to every request, which then takes
    Django's stock path), so it is installed only for the families that use sessions; the
    others can take daf_drf's inline path.
    """

    def setUp(self) -> None:
        super().setUp()
        self.fx = create_fixtures()

    entry = "daf_drf"
    thread_pool_size: int | None = None

    def check(self, family: Callable[[Sweep], Awaitable[None]]) -> daf_asgi.ASGIHandler:
        assert ENV not in os.environ
        app = daf_asgi.get_asgi_application(thread_pool_size=self.thread_pool_size)
        sweep = Sweep(app, own_connections=True, counts=CASES_RUN[self.entry])

        async def family_then_close(sweep: Sweep) -> None:
            try:
                await family(sweep)
            finally:
                # The sweep's own queries (row counts between requests) run outside any
                # request, on asgiref's shared thread: close that thread's connection, which
                # no request_finished would (on PostgreSQL it kept the test database open).
                await sync_to_async(connections.close_all)()

        run_on_fresh_loop(family_then_close, sweep)
        sweep.raise_failures()
        return app

    def test_every_authenticator_identity_and_permission(self) -> None:
        with self.settings(MIDDLEWARE=SESSION_MIDDLEWARE):
            self.check(lambda s: cases.auth_permission(s, self.fx))

    def test_csrf_by_cookie_and_in_the_session(self) -> None:
        with self.settings(MIDDLEWARE=SESSION_MIDDLEWARE):
            self.check(lambda s: cases.csrf(s, self.fx))
            self.check(lambda s: cases.csrf_in_session(s, self.fx))

    def test_api_view_function_view(self) -> None:
        with self.settings(MIDDLEWARE=SESSION_MIDDLEWARE):
            self.check(lambda s: cases.api_view(s, self.fx))

    def test_sync_overrides_of_dispatch_steps(self) -> None:
        self.check(lambda s: cases.overrides(s, self.fx))

    def test_every_throttle_on_every_store(self) -> None:
        app = self.check(lambda s: cases.throttles(s, self.redis_url))
        # Requests without sync work (memory and Redis stores, anonymous) took daf_drf's
        # inline path; those with a thread hop, Django's stock path.
        assert app.path_counts["inline"] > 0, app.path_counts
        assert app.path_counts["stock"] > 0, app.path_counts

    def test_throttles_written_for_drf_and_async_throttles(self) -> None:
        self.check(cases.project_throttles)

    # The deprecated async `daf_drf.exceptions.exception_handler` is one of the handlers swept.
    @pytest.mark.filterwarnings(
        "ignore:daf_drf.exceptions.exception_handler is deprecated:DeprecationWarning"
    )
    def test_every_exception_handler_on_every_error_path(self) -> None:
        app = self.check(cases.exception_handlers)
        assert app.path_counts["inline"] > 0, app.path_counts

    def test_model_viewset_with_drfs_sync_hooks(self) -> None:
        self.check(lambda s: cases.viewset(s, self.fx, "books"))

    def test_model_viewset_with_async_hooks(self) -> None:
        self.check(lambda s: cases.viewset(s, self.fx, "abooks"))

    def test_drfs_own_model_permissions_with_async_get_queryset(self) -> None:
        self.check(lambda s: cases.viewset(s, self.fx, "drfbooks"))

    def test_enqueue_response_and_the_task_status_view(self) -> None:
        with self.settings(MIDDLEWARE=SESSION_MIDDLEWARE):
            self.check(lambda s: cases.tasks(s, self.fx))

    def test_the_browsable_api(self) -> None:
        with self.settings(MIDDLEWARE=SESSION_MIDDLEWARE):
            self.check(lambda s: cases.browsable_api(s, self.fx))

    def test_serializer_helpers_and_transactions(self) -> None:
        self.check(lambda s: cases.serializers_and_transactions(s, self.fx))


class TestSweepThroughDafDrfsASGIEntryWithAThreadPool(TestSweepThroughDafDrfsASGIEntry):
    """The same with `ASGI_THREAD_POOL_SIZE`: sync work runs on long-lived pooled threads."""

    entry = "daf_drf pool"
    thread_pool_size = 2


class TestSweepThroughDafDrfsASGIEntryOptedOutOfItsPool(TestSweepThroughDafDrfsASGIEntry):
    """
    The same with `ASGI_THREAD_POOL_SIZE = 0`: a fresh thread per request, as Django does (what
    the entry did by default before its pool became the default, issue 17).
    """

    entry = "daf_drf opt-out"
    thread_pool_size = 0


# --- negative controls: the detector and the judge catch what they must --------------------------


@SWEEP_SETTINGS
class TestTheDetector(SweepEnvironment, TestCase):
    async def outcome(self, case: Case) -> tuple[Any, list[str], Any]:
        with detect_sync_only() as detector:
            result = await serve(ASGIHandler(), case, own_connections=False)
        return result, judge(case, result, detector), detector

    async def test_it_reports_a_sync_orm_call_on_the_event_loop(self) -> None:
        result, problems, detector = await self.outcome(Case("unsafe", "GET", "/unsafe/", 200))
        assert result.status == 500
        assert detector.created, "the SynchronousOnlyOperation was not recorded"
        assert any(entry.startswith("django.request") for entry in detector.logged)
        assert any("SynchronousOnlyOperation raised" in p for p in problems), problems
        assert "answered 500" in problems

    async def test_it_reports_a_sync_orm_call_whose_error_was_swallowed(self) -> None:
        case = Case("unsafe, swallowed", "GET", "/unsafe-swallowed/", 200)
        result, problems, detector = await self.outcome(case)
        # The view hid the error and answered 200: only the construction record shows it.
        assert result.status == 200
        assert result.json() == {"users": -1}
        assert detector.logged == []
        assert len(problems) == 1, problems
        assert "SynchronousOnlyOperation raised" in problems[0], problems

    async def test_it_reports_an_orm_hook_wrongly_declared_inline_safe(self) -> None:
        # What a misclassified hook would do: daf_drf runs it on the loop.
        case = Case("misclassified hook", "GET", "/unsafe-inline-hook/", 200)
        result, problems, _ = await self.outcome(case)
        assert result.status == 500
        assert any("SynchronousOnlyOperation raised" in p for p in problems), problems

    async def test_a_failing_throttle_store_is_a_wrong_status(self) -> None:
        # The throttle cases run fail-closed, so a store that errors (a
        # SynchronousOnlyOperation inside a cache backend included) answers 429 where the
        # sweep expects 200. Here the store is a port nothing listens on.
        dead = {"THROTTLE_STORE": "redis://127.0.0.1:9/0", "THROTTLE_FAILURE": "closed"}
        case = Case("dead store", "GET", "/throttle/anon/", 200, [("x-forwarded-for", "10.5.0.1")])
        with self.settings(DAF_DRF=dead):
            result, problems, _ = await self.outcome(case)
            await hooks.SweepAnon().get_store().aclose()
        assert result.status == 429
        assert problems == [f"status 429, expected 200: {result.body.decode()}"]

    def test_it_reports_a_sync_orm_call_through_daf_drfs_entry_too(self) -> None:
        async def go() -> tuple[Any, list[str]]:
            case = Case("unsafe", "GET", "/unsafe/", 200)
            with detect_sync_only() as detector:
                result = await serve(daf_asgi.get_asgi_application(), case, own_connections=True)
            return result, judge(case, result, detector)

        result, problems = run_on_fresh_loop(go)
        assert result.status == 500
        assert any("SynchronousOnlyOperation raised" in p for p in problems), problems


class TestSweepSummary(SimpleTestCase):
    def test_every_family_that_ran_ran_all_its_planned_cases(self) -> None:
        # Runs last in this module: a family that ran (all do in a full run) ran every
        # planned case, through each ASGI application; none silently shrank.
        for app, counts in CASES_RUN.items():
            for family, count in counts.items():
                assert count == cases.PLANNED[family], (app, family, count)
        planned = len(CASES_RUN) * sum(cases.PLANNED.values())
        ran = sum(sum(counts.values()) for counts in CASES_RUN.values())
        per_entry = ", ".join(f"{app}: {sum(c.values())}" for app, c in CASES_RUN.items())
        print(
            f"\nasync-safety sweep: {ran} of {planned} planned requests (path x combination x "
            f"ASGI entry) ran with {ENV} unset ({per_entry})"
        )
        assert planned >= 1500
