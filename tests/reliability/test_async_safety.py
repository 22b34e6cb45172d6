"""
Reliability item 8: no `SynchronousOnlyOperation` on any documented path.

One systematic sweep through Django's real `ASGIHandler` (scope, receive, send), with
`DJANGO_ALLOW_ASYNC_UNSAFE` removed from the environment, over:

- authenticators (daf_drf's Session with a database session and CSRF, Token and Basic, DRF's
  own three, a project's sync ORM authenticator, an `async def authenticate`, all of them at
  once) x identities (a permitted user, an unpermitted one, anonymous, bad credentials) x
  permissions (`IsAuthenticated`, a sync ORM permission, an async ORM one, a composite of
  `&`, `|` and `~` mixing them) x methods (GET, and POST with a JSON body);
- throttles (daf_drf's Anon/User/Scoped and a project's subclass with a sync ORM key) on every
  store (the default LocMem cache, `cache://` on a `DatabaseCache`, `memory://`, a real Redis),
  DRF-written sync throttles on LocMem and on a `DatabaseCache`, an async ORM throttle;
- exception handlers (DRF's, daf_drf's async default, a sync one and an async one that write
  an ORM row, `problem_details_handler`) x error paths (404, 401, 429, 400, unhandled);
- a `ModelViewSet` behind `DefaultRouter` with pagination, search/ordering/django-filter,
  `DjangoModelPermissions`, sync and async object permissions, an async `SerializerMethodField`
  and an `aget_object` action, twice: with DRF's sync hooks and with async hooks;
- `enqueue_response` on the immediate task backend and the task status view.

Every case asserts its exact status (and the body facts that prove the path ran), and that no
`SynchronousOnlyOperation` was created anywhere: each instance is recorded when constructed
(so one swallowed by a `try`/fail-open path is still caught), every log record carrying one
is captured, and a 500 fails the case unless the case is the unhandled-error path. Two
negative controls show the detector catching an unsafe view, raised and swallowed.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis.asyncio as aredis
from django.contrib.auth.models import Group, Permission, User
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import caches
from django.core.exceptions import SynchronousOnlyOperation
from django.core.handlers.asgi import ASGIHandler
from django.core.management import call_command
from django.middleware.csrf import CSRF_SESSION_KEY
from django.test import Client, SimpleTestCase, TestCase, override_settings
from rest_framework.authtoken.models import Token

from daf_drf._tasks_compat import TASKS_MODULE
from daf_drf.backends import get_store
from tests.asgi_client import ASGIResult, asgi_request
from tests.models import AuditEntry, Author, Book, Review
from tests.reliability import safety_views as sv

ENV = "DJANGO_ALLOW_ASYNC_UNSAFE"
CSRF_SECRET = "SweepCsrfSecret0123456789abcdefg"  # 32 characters: an unmasked CSRF secret
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw"}

SWEEP_SETTINGS = override_settings(
    ROOT_URLCONF="tests.reliability.safety_views",
    DEBUG=False,
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "sweepdb": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "daf_sweep_cache",
        },
    },
    # An outage of a throttle store must show up as a wrong status, never be admitted.
    DAF_DRF={"THROTTLE_FAILURE": "closed"},
    TASKS={"default": {"BACKEND": f"{TASKS_MODULE}.backends.immediate.ImmediateBackend"}},
)

# Cases run per family, for the summary at the end of the module.
CASES_RUN: dict[str, int] = {}


# --- the detector ------------------------------------------------------------------------------


def _carries_sync_only(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, SynchronousOnlyOperation):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    text = record.getMessage() + (record.exc_text or "")
    return "SynchronousOnlyOperation" in text or "from an async context" in text


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.NOTSET)
        self.sink = sink
        self.seen: set[int] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if id(record) in self.seen:
            return
        self.seen.add(id(record))
        if _carries_sync_only(record):
            self.sink.append(f"{record.name}: {record.getMessage()}")


@dataclass
class Detector:
    """What one request left behind: `SynchronousOnlyOperation`s created and logged."""

    created: list[str] = field(default_factory=list)
    logged: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        return [f"SynchronousOnlyOperation raised: {c}" for c in self.created] + [
            f"SynchronousOnlyOperation logged by {entry}" for entry in self.logged
        ]


@contextmanager
def detect_sync_only() -> Iterator[Detector]:
    """
    Record every `SynchronousOnlyOperation` constructed while the block runs (with where),
    and every log record (on `django.request` or propagated to the root logger) carrying one.
    """
    detector = Detector()

    def recording_init(exc: BaseException, *args: Any) -> None:
        Exception.__init__(exc, *args)
        stack = "".join(traceback.format_stack(limit=10)[:-1])
        detector.created.append(f"{args[0] if args else ''}\n{stack}")

    handler = _Collect(detector.logged)
    loggers = [logging.getLogger(), logging.getLogger("django.request")]
    SynchronousOnlyOperation.__init__ = recording_init  # type: ignore[method-assign]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield detector
    finally:
        del SynchronousOnlyOperation.__init__
        for logger in loggers:
            logger.removeHandler(handler)


# --- cases -------------------------------------------------------------------------------------


@dataclass
class Case:
    label: str
    method: str
    path: str
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: Any = None
    check: Callable[[ASGIResult], None] | None = None
    # Only the unhandled-error path may answer 500.
    expect_500: bool = False


def judge(case: Case, result: ASGIResult, detector: Detector) -> list[str]:
    """Everything wrong with one case's outcome (empty when it passed)."""
    problems = list(detector.problems)
    text = result.body.decode("utf-8", "replace")
    if result.status != case.status:
        problems.append(f"status {result.status}, expected {case.status}: {text[:300]}")
    if result.status == 500 and not case.expect_500:
        problems.append("answered 500")
    if "SynchronousOnlyOperation" in text or "from an async context" in text:
        problems.append(f"the body names SynchronousOnlyOperation: {text[:300]}")
    if case.check is not None and not problems:
        try:
            case.check(result)
        except (AssertionError, KeyError, TypeError, ValueError) as exc:
            problems.append(f"body check failed: {exc!r}: {text[:300]}")
    return problems


def _json_is(**expected: Any) -> Callable[[ASGIResult], None]:
    def check(result: ASGIResult) -> None:
        data = result.json()
        for key, value in expected.items():
            assert data[key] == value, f"{key}={data[key]!r}, expected {value!r}"

    return check


def _basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def _header_of(auth: str) -> str | None:
    """`WWW-Authenticate` of the first authenticator of a config: decides 401 vs 403."""
    return {
        "token": "Token",
        "drf_token": "Token",
        "basic": 'Basic realm="api"',
        "drf_basic": 'Basic realm="api"',
        "sync_orm": "Project",
        "all": "Token",
    }.get(auth)


IDENTITIES = ("alice", "bob", "anonymous", "bad")
METHODS = ("GET", "POST")
CSRF_CONFIGS = ("session", "drf_session")


class SweepTestCase(TestCase):
    """Users, sessions, tokens and books shared by the sweep; env var unset; cache table made."""

    alice: User
    bob: User

    @classmethod
    def setUpTestData(cls) -> None:
        editors = Group.objects.create(name=sv.EDITORS)
        cls.alice = User.objects.create_user("alice", password=PASSWORDS["alice"])
        cls.alice.groups.add(editors)
        cls.alice.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="tests",
                codename__in=["add_book", "change_book", "delete_book", "view_book"],
            )
        )
        cls.bob = User.objects.create_user("bob", password=PASSWORDS["bob"])
        cls.tokens = {u.username: Token.objects.create(user=u).key for u in (cls.alice, cls.bob)}
        cls.sessions = {}
        for user in (cls.alice, cls.bob):
            client = Client()
            client.force_login(user)
            key = client.cookies["sessionid"].value
            cls.sessions[user.username] = key
            # For CSRF_USE_SESSIONS: the secret lives in the session instead of a cookie.
            session = SessionStore(session_key=key)
            session[CSRF_SESSION_KEY] = CSRF_SECRET
            session.save()
        ursula = Author.objects.create(name="Ursula")
        locked = Author.objects.create(name="Locked")
        archived = Author.objects.create(name="Archived")
        cls.ursula_pk = ursula.pk
        cls.books = {
            f"b{i}": Book.objects.create(
                title=f"Book {i}", isbn=f"{i:013d}", price=10 + i, author=ursula
            ).pk
            for i in range(1, 5)
        }
        cls.books["locked"] = Book.objects.create(
            title="Locked Book", isbn="9000000000001", price=5, author=locked
        ).pk
        cls.books["archived"] = Book.objects.create(
            title="Archived Book", isbn="9000000000002", price=6, author=archived
        ).pk
        Review.objects.create(book_id=cls.books["b1"], stars=4)
        Review.objects.create(book_id=cls.books["b1"], stars=5)

    def setUp(self) -> None:
        # A sync ORM call on the loop must raise, so that the sweep can see it.
        self._saved_env = os.environ.pop(ENV, None)
        assert ENV not in os.environ
        call_command("createcachetable", "daf_sweep_cache", verbosity=0)
        # The in-process stores outlive a test; start each test from empty counters.
        caches["default"].clear()
        get_store("memory://").clear()

    def tearDown(self) -> None:
        if self._saved_env is not None:
            os.environ[ENV] = self._saved_env

    # --- running cases ------------------------------------------------------------------------

    async def run_cases(self, family: str, cases: list[Case]) -> None:
        """Run each case through one `ASGIHandler`; fail with every problem of every case."""
        assert ENV not in os.environ
        app = ASGIHandler()
        failures: list[str] = []
        for case in cases:
            with self.subTest(case.label):
                result, detector = await self.request(case, app)
                problems = judge(case, result, detector)
                failures.extend(f"[{family}] {case.label}: {p}" for p in problems)
        CASES_RUN[family] = CASES_RUN.get(family, 0) + len(cases)
        assert not failures, f"{len(failures)} problem(s):\n" + "\n".join(failures)

    async def request(self, case: Case, app: Any) -> tuple[ASGIResult, Detector]:
        path, _, query = case.path.partition("?")
        headers = list(case.headers)
        body = b""
        if case.body is not None:
            body = json.dumps(case.body).encode()
            headers.append(("content-type", "application/json"))
        with detect_sync_only() as detector:
            result = await asgi_request(case.method, path, body, headers, app=app, query=query)
        return result, detector

    # --- credentials --------------------------------------------------------------------------

    def credentials(self, auth: str, identity: str, method: str) -> list[tuple[str, str]]:
        """Headers that present `identity` to the authenticators of config `auth`."""
        if identity == "anonymous":
            return []
        user = identity if identity != "bad" else "alice"
        if auth in ("session", "drf_session"):
            session = self.sessions[user] if identity != "bad" else "not-a-session"
            headers = [("cookie", f"sessionid={session}; csrftoken={CSRF_SECRET}")]
            if method != "GET":
                headers.append(("x-csrftoken", CSRF_SECRET))
            return headers
        if auth in ("token", "drf_token"):
            key = self.tokens[user] if identity != "bad" else "not-a-token"
            return [("authorization", f"Token {key}")]
        if auth in ("basic", "drf_basic"):
            password = PASSWORDS[user] if identity != "bad" else "wrong"
            return [("authorization", _basic(user, password))]
        if auth == "sync_orm":
            return [("authorization", f"Project {user if identity != 'bad' else 'nobody'}")]
        if auth == "async_orm":
            return [("x-async-user", user if identity != "bad" else "nobody")]
        # "all": alice through the last authenticator (every other one runs first and passes),
        # bob through the sync one, bad credentials stop at the first one.
        if identity == "alice":
            return [("x-async-user", "alice")]
        if identity == "bob":
            return [("authorization", "Project bob")]
        return [("authorization", "Token not-a-token")]


# --- 1. authenticators x identities x permissions x methods ------------------------------------


def expected_auth_status(auth: str, identity: str, perm: str, method: str) -> int:
    ok = 201 if method == "POST" else 200
    unauthenticated = 401 if _header_of(auth) else 403
    if identity == "alice":
        return ok
    if identity == "bob":
        return ok if perm == "is_authenticated" else 403
    if identity == "bad" and auth not in ("session", "drf_session"):
        return unauthenticated  # AuthenticationFailed
    return unauthenticated  # anonymous, or an unknown session: not authenticated


@SWEEP_SETTINGS
class TestAuthenticationPermissionSweep(SweepTestCase):
    def auth_cases(self) -> list[Case]:
        cases = []
        for auth in sv.AUTHENTICATORS:
            for identity in IDENTITIES:
                for perm in sv.PERMISSIONS:
                    for method in METHODS:
                        status = expected_auth_status(auth, identity, perm, method)
                        check = None
                        if status in (200, 201):
                            check = _json_is(user=identity)
                        elif status == 403 and identity == "bob":
                            check = _json_is(
                                detail="You do not have permission to perform this action."
                            )
                        cases.append(
                            Case(
                                label=f"{auth}/{identity}/{perm}/{method}",
                                method=method,
                                path=f"/auth/{auth}/{perm}/",
                                status=status,
                                headers=self.credentials(auth, identity, method),
                                body={"n": 1} if method == "POST" else None,
                                check=check,
                            )
                        )
        return cases

    async def test_every_authenticator_with_every_permission_is_async_safe(self) -> None:
        await self.run_cases("auth x permission", self.auth_cases())

    async def test_session_post_without_csrf_token_is_403_csrf_failed(self) -> None:
        cases = [
            Case(
                label=f"{auth}/alice/{perm}/POST without CSRF",
                method="POST",
                path=f"/auth/{auth}/{perm}/",
                status=403,
                headers=[("cookie", f"sessionid={self.sessions['alice']}")],
                body={"n": 1},
                check=_json_is(detail="CSRF Failed: CSRF cookie not set."),
            )
            for auth in CSRF_CONFIGS
            for perm in sv.PERMISSIONS
        ]
        await self.run_cases("csrf", cases)

    async def test_session_csrf_kept_in_the_session_is_async_safe(self) -> None:
        # CSRF_USE_SESSIONS: the check reads the secret from the database session.
        cookie = [("cookie", f"sessionid={self.sessions['alice']}")]
        cases = []
        for auth in CSRF_CONFIGS:
            for perm in sv.PERMISSIONS:
                cases += [
                    Case(
                        label=f"{auth}/alice/{perm}/POST, CSRF in the session",
                        method="POST",
                        path=f"/auth/{auth}/{perm}/",
                        status=201,
                        headers=[*cookie, ("x-csrftoken", CSRF_SECRET)],
                        body={"n": 1},
                        check=_json_is(user="alice"),
                    ),
                    Case(
                        label=f"{auth}/alice/{perm}/POST, no CSRF token",
                        method="POST",
                        path=f"/auth/{auth}/{perm}/",
                        status=403,
                        headers=cookie,
                        body={"n": 1},
                        check=_json_is(detail="CSRF Failed: CSRF token missing."),
                    ),
                ]
        with self.settings(CSRF_USE_SESSIONS=True):
            await self.run_cases("csrf in session", cases)

    async def test_api_view_function_with_every_hook_kind_is_async_safe(self) -> None:
        # One user, one scoped counter, whichever authenticator admitted the request.
        def json_user(r: ASGIResult) -> None:
            assert r.json() == {"user": "alice", "books": 6}, r.json()

        cases = [
            Case(
                "alice via token",
                "GET",
                "/api-view/",
                200,
                self.credentials("token", "alice", "GET"),
                check=json_user,
            ),
            Case(
                "alice via session",
                "GET",
                "/api-view/",
                200,
                self.credentials("session", "alice", "GET"),
                check=json_user,
            ),
            Case(
                "alice via the async authenticator",
                "GET",
                "/api-view/",
                429,
                self.credentials("async_orm", "alice", "GET"),
                check=lambda r: _expect(int(r.headers["retry-after"]) >= 1, r.headers),
            ),
            Case(
                "bob via the sync authenticator",
                "GET",
                "/api-view/",
                403,
                self.credentials("sync_orm", "bob", "GET"),
            ),
            Case("anonymous", "GET", "/api-view/", 401, []),
            Case("bad token", "GET", "/api-view/", 401, self.credentials("all", "bad", "GET")),
        ]
        await self.run_cases("api_view", cases)


# --- 2. throttles x stores ----------------------------------------------------------------------


THROTTLE_STORES = ("default", "dbcache", "memory", "redis")
BURST = 3  # rate 2/min: 200, 200, 429


@SWEEP_SETTINGS
class TestThrottleSweep(SweepTestCase):
    redis_url: str

    @pytest.fixture(autouse=True)
    def _redis(self, clean_redis: str) -> None:
        self.redis_url = clean_redis

    def store_url(self, store: str) -> str | None:
        return {
            "default": None,
            "dbcache": "cache://sweepdb",
            "memory": "memory://",
            "redis": self.redis_url,
        }[store]

    async def burst(self, label: str, path: str, headers: list[tuple[str, str]]) -> list[Case]:
        def retry_after(result: ASGIResult) -> None:
            assert int(result.headers["retry-after"]) >= 1

        return [
            Case(
                label=f"{label} #{n + 1}",
                method="GET",
                path=path,
                status=429 if n == BURST - 1 else 200,
                headers=headers,
                check=retry_after if n == BURST - 1 else None,
            )
            for n in range(BURST)
        ]

    async def client_headers(self, name: str, index: int) -> list[tuple[str, str]]:
        """A client of its own per case: a fresh user for `user`, else a fresh address."""
        if name == "user":
            user = await User.objects.acreate(username=f"throttled-{index}")
            token = await Token.objects.acreate(user=user)
            return [("authorization", f"Token {token.key}")]
        # NUM_PROXIES is unset, so DRF takes the client address from X-Forwarded-For.
        return [("x-forwarded-for", f"10.8.{index // 250}.{index % 250 + 1}")]

    async def stored(self, store: str, key: str) -> int:
        """How many requests the store holds for `key` (DRF's history, or a Redis zset)."""
        if store in ("default", "dbcache"):
            alias = "default" if store == "default" else "sweepdb"
            return len(await caches[alias].aget(key, []))
        if store == "memory":
            entry = get_store("memory://")._data.get(key)
            return len(entry[0]) if entry else 0
        client = aredis.Redis.from_url(self.redis_url)
        try:
            return int(await client.llen(f"daf_drf:{key}"))
        finally:
            await client.aclose()

    async def test_every_throttle_on_every_store_is_async_safe_and_exact(self) -> None:
        index = 0
        for store in THROTTLE_STORES:
            url = self.store_url(store)
            with self.settings(DAF_DRF={"THROTTLE_STORE": url, "THROTTLE_FAILURE": "closed"}):
                cases: list[Case] = []
                for name in sv.THROTTLES:
                    index += 1
                    headers = await self.client_headers(name, index)
                    cases += await self.burst(f"{name}@{store}", f"/throttle/{name}/", headers)
                # A VIP (found by the project throttle's sync ORM query) is never throttled.
                index += 1
                vip = f"10.9.0.{index}"
                await Author.objects.acreate(name=f"vip:{vip}")
                cases += [
                    Case(
                        f"daf_project@{store} vip #{n}",
                        "GET",
                        "/throttle/daf_project/",
                        200,
                        [("x-forwarded-for", vip)],
                    )
                    for n in range(BURST)
                ]
                await self.run_cases("throttle x store", cases)
                # The counters are in the store under test, not somewhere else.
                anon_ip = f"10.8.{(index - 4) // 250}.{(index - 4) % 250 + 1}"
                assert await self.stored(store, f"throttle_anon_{anon_ip}") == 2, store
                if url is not None and url.startswith("redis"):
                    await sv.SweepAnon().get_store().aclose()

    async def test_throttles_written_for_drf_and_async_throttles_are_async_safe(self) -> None:
        cases: list[Case] = []
        for index, name in enumerate(sv.CACHE_ONLY_THROTTLES, start=1):
            headers = [("x-forwarded-for", f"10.7.0.{index}")]
            cases += await self.burst(name, f"/throttle/{name}/", headers)
        await Author.objects.acreate(name="blocked:10.6.0.2")
        cases += [
            Case(
                "async_orm allowed",
                "GET",
                "/throttle/async_orm/",
                200,
                [("x-forwarded-for", "10.6.0.1")],
            ),
            Case(
                "async_orm blocked",
                "GET",
                "/throttle/async_orm/",
                429,
                [("x-forwarded-for", "10.6.0.2")],
                check=lambda r: _expect(r.headers["retry-after"] == "7", r.headers),
            ),
        ]
        await self.run_cases("project throttles", cases)


def _expect(condition: bool, detail: Any) -> None:
    assert condition, detail


# --- 3. exception handlers x error paths --------------------------------------------------------


ERROR_PATHS: list[tuple[str, str, str, int, Any]] = [
    ("not found", "GET", "/exc/not-found/", 404, None),
    ("not authenticated", "GET", "/exc/not-authenticated/", 401, None),
    ("throttled", "GET", "/exc/throttled/", 429, None),
    ("invalid", "POST", "/exc/invalid/", 400, {}),
    ("unhandled", "GET", "/exc/crash/", 500, None),
]


@SWEEP_SETTINGS
class TestExceptionHandlerSweep(SweepTestCase):
    async def test_every_exception_handler_on_every_error_path_is_async_safe(self) -> None:
        for handler, dotted in sv.EXCEPTION_HANDLERS.items():
            with self.settings(REST_FRAMEWORK={"EXCEPTION_HANDLER": dotted}):
                before = await AuditEntry.objects.acount()
                cases = [
                    Case(
                        label=f"{handler}/{label}",
                        method=method,
                        path=path,
                        status=status,
                        body=body,
                        check=_error_check(handler, status),
                        expect_500=status == 500,
                    )
                    for label, method, path, status, body in ERROR_PATHS
                ]
                await self.run_cases("exception handler x error", cases)
                written = await AuditEntry.objects.acount() - before
            # The ORM-writing handlers wrote one row per error, the unhandled one included.
            assert written == (len(ERROR_PATHS) if "audit" in handler else 0), (handler, written)


def _error_check(handler: str, status: int) -> Callable[[ASGIResult], None] | None:
    if status == 500:
        return None

    def check(result: ASGIResult) -> None:
        data = result.json()
        if handler == "problem_details":
            assert result.headers["content-type"] == "application/problem+json"
            assert data["status"] == status, data
        elif status == 400:
            assert "title" in data, data  # the field errors
        else:
            assert "detail" in data, data
        if status == 401:
            assert result.headers["www-authenticate"] == "Token"
        if status == 429:
            assert int(result.headers["retry-after"]) >= 1

    return check


# --- 4. generic views and viewsets ---------------------------------------------------------------


@SWEEP_SETTINGS
class TestGenericViewSweep(SweepTestCase):
    def viewset_cases(self, prefix: str) -> list[Case]:
        alice = [("authorization", f"Token {self.tokens['alice']}")]
        bob = [("authorization", f"Token {self.tokens['bob']}")]
        base = f"/gen/{prefix}/"
        b = self.books
        isbn = {"books": "1111111111111", "abooks": "2222222222222"}.get(prefix, "3333333333333")
        new = {"title": "New", "isbn": isbn, "price": "9.00", "author": self.ursula_pk}
        full = {
            "title": "Renamed",
            "isbn": "0000000000002",
            "price": "20.00",
            "author": self.ursula_pk,
        }

        def count_is(n: int) -> Callable[[ASGIResult], None]:
            return lambda r: _expect(r.json()["count"] == n, r.json())

        def first_title(title: str) -> Callable[[ASGIResult], None]:
            return lambda r: _expect(r.json()["results"][0]["title"] == title, r.json())

        def reviews(n: int) -> Callable[[ASGIResult], None]:
            return lambda r: _expect(r.json()["review_count"] == n, r.json())

        def listing(r: ASGIResult) -> None:
            data = r.json()
            assert data["count"] == 6, data
            assert len(data["results"]) == 2, data
            assert data["next"], data
            assert [row["review_count"] for row in data["results"]] == [2, 0], data

        return [
            Case("list", "GET", base, 200, alice, check=listing),
            Case("list search", "GET", base + "?search=Book 1", 200, alice, check=count_is(1)),
            Case(
                "list ordering",
                "GET",
                base + "?ordering=-price",
                200,
                alice,
                check=first_title("Book 4"),
            ),
            Case(
                "list filter",
                "GET",
                f"{base}?author={self.ursula_pk}",
                200,
                alice,
                check=count_is(4),
            ),
            Case("list page 2", "GET", base + "?page=2", 200, alice, check=count_is(6)),
            Case("retrieve", "GET", f"{base}{b['b1']}/", 200, alice, check=reviews(2)),
            Case("retrieve sync object permission", "GET", f"{base}{b['locked']}/", 403, alice),
            Case("retrieve async object permission", "GET", f"{base}{b['archived']}/", 403, alice),
            Case("retrieve missing", "GET", f"{base}999999/", 404, alice),
            Case(
                "aget_object action",
                "GET",
                f"{base}{b['b1']}/summary/",
                200,
                alice,
                check=lambda r: _expect(r.json() == {"title": "Book 1", "reviews": 2}, r.json()),
            ),
            Case("aget_object action denied", "GET", f"{base}{b['locked']}/summary/", 403, alice),
            Case("create", "POST", base, 201, alice, new, check=reviews(0)),
            Case("create invalid", "POST", base, 400, alice, {}),
            Case(
                "update",
                "PUT",
                f"{base}{b['b2']}/",
                200,
                alice,
                full,
                check=lambda r: _expect(r.json()["title"] == "Renamed", r.json()),
            ),
            Case(
                "partial_update",
                "PATCH",
                f"{base}{b['b3']}/",
                200,
                alice,
                {"price": "1.00"},
                check=lambda r: _expect(r.json()["price"] == "1.00", r.json()),
            ),
            Case(
                "partial_update denied",
                "PATCH",
                f"{base}{b['locked']}/",
                403,
                alice,
                {"price": "1.00"},
            ),
            Case("destroy", "DELETE", f"{base}{b['b4']}/", 204, alice),
            Case("destroy denied", "DELETE", f"{base}{b['archived']}/", 403, alice),
            Case(
                "options",
                "OPTIONS",
                base,
                200,
                alice,
                check=lambda r: _expect("POST" in r.json()["actions"], r.json()),
            ),
            Case("bob list", "GET", base, 200, bob),
            Case("bob create", "POST", base, 403, bob, new),
            Case("bob destroy", "DELETE", f"{base}{b['b1']}/", 403, bob),
            Case("anonymous list", "GET", base, 401, []),
        ]

    async def test_model_viewset_with_drfs_sync_hooks_is_async_safe(self) -> None:
        await self.run_cases("generic views", self.viewset_cases("books"))
        assert not await Book.objects.filter(pk=self.books["b4"]).aexists()

    async def test_model_viewset_with_async_hooks_is_async_safe(self) -> None:
        await self.run_cases("generic views", self.viewset_cases("abooks"))
        assert await AuditEntry.objects.filter(message="perform_create").acount() == 1
        assert not await Book.objects.filter(pk=self.books["b4"]).aexists()

    async def test_drfs_own_model_permissions_with_async_hooks_are_async_safe(self) -> None:
        # `rest_framework.permissions.DjangoModelPermissions` calls `view.get_queryset()`
        # itself; with `async def get_queryset` daf_drf awaits it in the check's thread.
        await self.run_cases("generic views", self.viewset_cases("drfbooks"))
        assert await AuditEntry.objects.filter(message="perform_create").acount() == 1


# --- 5. tasks ------------------------------------------------------------------------------------


TASK_CREDENTIALS = ("token", "session", "basic", "sync_orm", "async_orm")


@SWEEP_SETTINGS
class TestTaskSweep(SweepTestCase):
    async def test_enqueue_response_and_the_status_view_are_async_safe(self) -> None:
        app = ASGIHandler()
        locations: list[str] = []
        for auth in TASK_CREDENTIALS:
            headers = self.credentials(auth, "alice", "POST")
            enqueue = Case(
                f"enqueue via {auth}", "POST", "/tasks/add/", 202, headers, {"a": 2, "b": 3}
            )
            result, detector = await self.request(enqueue, app)
            problems = judge(enqueue, result, detector)
            assert not problems, problems
            locations.append(urlsplit(result.headers["location"]).path)
            CASES_RUN["tasks"] = CASES_RUN.get("tasks", 0) + 1
        status_cases = [
            Case(
                f"status via {auth}",
                "GET",
                location,
                200,
                self.credentials(auth, "alice", "GET"),
                check=_json_is(status="SUCCESSFUL", result=5),
            )
            for auth, location in zip(TASK_CREDENTIALS, locations, strict=True)
        ]
        status_cases += [
            Case(
                "status of another user's task",
                "GET",
                locations[0],
                404,
                self.credentials("token", "bob", "GET"),
            ),
            Case("status anonymous", "GET", locations[0], 401, []),
            Case("enqueue anonymous", "POST", "/tasks/add/", 401, [], {"a": 1, "b": 1}),
        ]
        await self.run_cases("tasks", status_cases)


# --- negative controls and the summary -----------------------------------------------------------


@SWEEP_SETTINGS
class TestTheDetector(SweepTestCase):
    async def test_it_reports_a_sync_orm_call_on_the_event_loop(self) -> None:
        case = Case("unsafe", "GET", "/unsafe/", 200)
        result, detector = await self.request(case, ASGIHandler())
        assert result.status == 500
        assert detector.created, "the SynchronousOnlyOperation was not recorded"
        assert any("django.request" in entry for entry in detector.logged), detector.logged
        problems = judge(case, result, detector)
        assert any("SynchronousOnlyOperation raised" in p for p in problems), problems
        assert "answered 500" in problems

    async def test_it_reports_a_sync_orm_call_whose_error_was_swallowed(self) -> None:
        case = Case("unsafe, swallowed", "GET", "/unsafe-swallowed/", 200)
        result, detector = await self.request(case, ASGIHandler())
        # The view hid the error and answered 200: only the construction record shows it.
        assert result.status == 200
        assert result.json() == {"users": -1}
        assert detector.logged == []
        problems = judge(case, result, detector)
        assert len(problems) == 1, problems
        assert "SynchronousOnlyOperation raised" in problems[0], problems

    async def test_it_reports_an_orm_hook_wrongly_declared_inline_safe(self) -> None:
        # The failure a misclassified hook would cause: daf_drf runs it on the loop.
        case = Case("misclassified hook", "GET", "/unsafe-inline-hook/", 200)
        result, detector = await self.request(case, ASGIHandler())
        assert result.status == 500
        problems = judge(case, result, detector)
        assert any("SynchronousOnlyOperation raised" in p for p in problems), problems

    async def test_a_throttle_store_failing_open_or_closed_is_a_wrong_status(self) -> None:
        # The throttle cases run with THROTTLE_FAILURE="closed", so a store that errors (a
        # SynchronousOnlyOperation inside a cache backend included) answers 429 where the
        # sweep expects 200. Here the store is a port nothing listens on.
        dead = {"THROTTLE_STORE": "redis://127.0.0.1:9/0", "THROTTLE_FAILURE": "closed"}
        case = Case("dead store", "GET", "/throttle/anon/", 200, [("x-forwarded-for", "10.5.0.1")])
        with self.settings(DAF_DRF=dead):
            result, detector = await self.request(case, ASGIHandler())
            await sv.SweepAnon().get_store().aclose()
        assert result.status == 429
        assert judge(case, result, detector) == [
            f"status 429, expected 200: {result.body.decode()}"
        ]


PLANNED = {
    "auth x permission": len(sv.AUTHENTICATORS)
    * len(IDENTITIES)
    * len(sv.PERMISSIONS)
    * len(METHODS),
    "csrf": len(CSRF_CONFIGS) * len(sv.PERMISSIONS),
    "throttle x store": len(THROTTLE_STORES) * (len(sv.THROTTLES) + 1) * BURST,
    "project throttles": len(sv.CACHE_ONLY_THROTTLES) * BURST + 2,
    "exception handler x error": len(sv.EXCEPTION_HANDLERS) * len(ERROR_PATHS),
    "generic views": 3 * 23,
    "tasks": 2 * len(TASK_CREDENTIALS) + 3,
    "csrf in session": 2 * len(CSRF_CONFIGS) * len(sv.PERMISSIONS),
    "api_view": 6,
}


class TestSweepSummary(SimpleTestCase):
    def test_every_family_that_ran_ran_all_its_planned_cases(self) -> None:
        # Runs last in this module: the families that ran (all of them in a full run) must
        # have run every planned case; none silently shrank.
        for family, count in CASES_RUN.items():
            assert count == PLANNED[family], (family, count, PLANNED[family])
        total = sum(PLANNED.values())
        ran = sum(CASES_RUN.values())
        print(
            f"\nasync-safety sweep: {ran} of {total} planned (path x combination) cases ran "
            f"through ASGIHandler with {ENV} unset: {CASES_RUN}"
        )
        assert total >= 400
