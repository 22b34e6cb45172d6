"""
The machinery of the async-safety sweep (`test_async_safety.py`): the detector, one ASGI
request per case, the judge, the fixtures and the credentials each authenticator expects.

The detector records every `SynchronousOnlyOperation` constructed while a request runs (with
where it was raised), so one swallowed by a `try` or by a fail-open path is caught as surely
as one that became a 500, and every log record that carries one.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group, Permission, User
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import SynchronousOnlyOperation
from django.middleware.csrf import CSRF_SESSION_KEY
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.asgi_client import ASGIResult, asgi_request
from tests.models import Author, Book, Review
from tests.reliability import safety_hooks as hooks

ENV = "DJANGO_ALLOW_ASYNC_UNSAFE"
CSRF_SECRET = "SweepCsrfSecret0123456789abcdefg"  # 32 characters: an unmasked CSRF secret
PASSWORDS = {"alice": "alice-pw", "bob": "bob-pw"}
SESSION_CONFIGS = ("session", "drf_session", "session_csrf_exempt")

# --- the detector --------------------------------------------------------------------------------


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
        if id(record) in self.seen:  # attached to two loggers of one propagation chain
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
    Record every `SynchronousOnlyOperation` constructed while the block runs, in any thread,
    and every log record (on `django.request`, or propagated to the root logger) carrying one.
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


# --- one case ------------------------------------------------------------------------------------


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


async def serve(app: Any, case: Case, *, own_connections: bool) -> ASGIResult:
    """
    One request through `app`. With `own_connections=False` (inside a `TestCase`) Django's
    `close_old_connections` receivers are disconnected for the request, as Django's test
    client does; with `True` they run, as under a real server.
    """
    path, _, query = case.path.partition("?")
    headers = list(case.headers)
    body = b""
    if case.body is not None:
        body = json.dumps(case.body).encode()
        headers.append(("content-type", "application/json"))
    return await asgi_request(
        case.method, path, body, headers, app=app, query=query, own_connections=own_connections
    )


class Sweep:
    """
    Runs families of cases through one ASGI application and collects every problem of every
    case (instead of stopping at the first), and how many cases each family ran.
    """

    def __init__(self, app: Any, *, own_connections: bool, counts: dict[str, int]) -> None:
        self.app = app
        self.own_connections = own_connections
        self.counts = counts
        self.failures: list[str] = []

    async def run(self, family: str, cases: list[Case]) -> list[ASGIResult]:
        results = []
        for case in cases:
            with detect_sync_only() as detector:
                result = await serve(self.app, case, own_connections=self.own_connections)
            problems = judge(case, result, detector)
            self.failures.extend(f"[{family}] {case.label}: {p}" for p in problems)
            results.append(result)
        self.counts[family] = self.counts.get(family, 0) + len(cases)
        return results

    def raise_failures(self) -> None:
        if self.failures:
            raise AssertionError(f"{len(self.failures)} problem(s):\n" + "\n".join(self.failures))


# --- fixtures and credentials ---------------------------------------------------------------------


@dataclass
class Fixtures:
    tokens: dict[str, str]
    sessions: dict[str, str]
    books: dict[str, int]
    ursula_pk: int


def create_fixtures() -> Fixtures:
    """Two users (alice: an editor with the Book permissions; bob: neither), their tokens
    and logged-in database sessions (holding the CSRF secret too), six books, two reviews."""
    editors = Group.objects.create(name=hooks.EDITORS)
    alice = User.objects.create_user("alice", password=PASSWORDS["alice"])
    alice.groups.add(editors)
    codenames = ["add_book", "change_book", "delete_book", "view_book"]
    alice.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="tests", codename__in=codenames)
    )
    bob = User.objects.create_user("bob", password=PASSWORDS["bob"])
    tokens = {u.username: Token.objects.create(user=u).key for u in (alice, bob)}
    sessions = {}
    for user in (alice, bob):
        client = Client()
        client.force_login(user)
        key = client.cookies["sessionid"].value
        sessions[user.username] = key
        # For CSRF_USE_SESSIONS: the secret lives in the session instead of a cookie.
        session = SessionStore(session_key=key)
        session[CSRF_SESSION_KEY] = CSRF_SECRET
        session.save()
    ursula = Author.objects.create(name="Ursula")
    locked = Author.objects.create(name="Locked")
    archived = Author.objects.create(name="Archived")
    books = {
        f"b{i}": Book.objects.create(
            title=f"Book {i}", isbn=f"{i:013d}", price=10 + i, author=ursula
        ).pk
        for i in range(1, 5)
    }
    books["locked"] = Book.objects.create(
        title="Locked Book", isbn="9000000000001", price=5, author=locked
    ).pk
    books["archived"] = Book.objects.create(
        title="Archived Book", isbn="9000000000002", price=6, author=archived
    ).pk
    Review.objects.create(book_id=books["b1"], stars=4)
    Review.objects.create(book_id=books["b1"], stars=5)
    return Fixtures(tokens=tokens, sessions=sessions, books=books, ursula_pk=ursula.pk)


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def credentials(fx: Fixtures, auth: str, identity: str, method: str) -> list[tuple[str, str]]:
    """Headers that present `identity` (alice, bob, anonymous, bad) to config `auth`."""
    if identity == "anonymous":
        return []
    user = identity if identity != "bad" else "alice"
    if auth in SESSION_CONFIGS:
        session = fx.sessions[user] if identity != "bad" else "not-a-session"
        headers = [("cookie", f"sessionid={session}; csrftoken={CSRF_SECRET}")]
        if method != "GET":
            headers.append(("x-csrftoken", CSRF_SECRET))
        return headers
    if auth in ("token", "drf_token", "token_override"):
        key = fx.tokens[user] if identity != "bad" else "not-a-token"
        return [("authorization", f"Token {key}")]
    if auth in ("basic", "drf_basic"):
        password = PASSWORDS[user] if identity != "bad" else "wrong"
        return [("authorization", basic(user, password))]
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


def authenticate_header(auth: str) -> str | None:
    """`WWW-Authenticate` of a config's first authenticator: it decides 401 versus 403."""
    return {
        "token": "Token",
        "drf_token": "Token",
        "token_override": "Token",
        "basic": 'Basic realm="api"',
        "drf_basic": 'Basic realm="api"',
        "sync_orm": "Project",
        "all": "Token",
    }.get(auth)


def json_is(**expected: Any) -> Callable[[ASGIResult], None]:
    def check(result: ASGIResult) -> None:
        data = result.json()
        for key, value in expected.items():
            assert data[key] == value, f"{key}={data[key]!r}, expected {value!r}"

    return check


def expect(condition: bool, detail: Any) -> None:
    assert condition, detail
