"""
The families of cases of the async-safety sweep. Each family is an async function that runs
its cases through a `Sweep` (any ASGI application) and returns nothing: problems are collected
by the sweep. `PLANNED` is how many cases each family runs.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import redis.asyncio as aredis
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import override_settings
from rest_framework.authtoken.models import Token

from daf_drf.backends import get_store
from tests.asgi_client import ASGIResult
from tests.models import AuditEntry, Author
from tests.reliability import safety_hooks as hooks
from tests.reliability.safety_sweep import (
    CSRF_SECRET,
    Case,
    Fixtures,
    Sweep,
    authenticate_header,
    credentials,
    expect,
    json_is,
)

IDENTITIES = ("alice", "bob", "anonymous", "bad")
METHODS = ("GET", "POST")
CSRF_CHECKED = ("session", "drf_session")
THROTTLE_STORES = ("default", "dbcache", "memory", "redis")
BURST = 3  # every sweep rate is 2/min: 200, 200, 429
DENIED = "You do not have permission to perform this action."

# --- authenticators x identities x permissions x methods ------------------------------------------


def expected_status(auth: str, identity: str, perm: str, method: str) -> int:
    ok = 201 if method == "POST" else 200
    if identity == "alice":
        return ok
    if identity == "bob":
        return ok if perm == "is_authenticated" else 403
    # Anonymous, bad credentials (AuthenticationFailed) or an unknown session (anonymous):
    # DRF's rule, 401 when the first authenticator has a `WWW-Authenticate` header, else 403.
    return 401 if authenticate_header(auth) else 403


async def auth_permission(sweep: Sweep, fx: Fixtures) -> None:
    cases = []
    for auth in hooks.AUTHENTICATORS:
        for identity in IDENTITIES:
            for perm in hooks.PERMISSIONS:
                for method in METHODS:
                    status = expected_status(auth, identity, perm, method)
                    check = None
                    if status in (200, 201):
                        check = json_is(user=identity)
                    elif status == 403 and identity == "bob":
                        check = json_is(detail=DENIED)
                    cases.append(
                        Case(
                            label=f"{auth}/{identity}/{perm}/{method}",
                            method=method,
                            path=f"/auth/{auth}/{perm}/",
                            status=status,
                            headers=credentials(fx, auth, identity, method),
                            body={"n": 1} if method == "POST" else None,
                            check=check,
                        )
                    )
    await sweep.run("auth x permission", cases)


async def csrf(sweep: Sweep, fx: Fixtures) -> None:
    """A session POST without a CSRF token: 403 (DRF's rule), 201 for DRF's exempt idiom."""
    cookie = [("cookie", f"sessionid={fx.sessions['alice']}")]
    cases = [
        Case(
            label=f"{auth}/alice/{perm}/POST without CSRF",
            method="POST",
            path=f"/auth/{auth}/{perm}/",
            status=201 if auth == "session_csrf_exempt" else 403,
            headers=cookie,
            body={"n": 1},
            check=json_is(user="alice")
            if auth == "session_csrf_exempt"
            else json_is(detail="CSRF Failed: CSRF cookie not set."),
        )
        for auth in (*CSRF_CHECKED, "session_csrf_exempt")
        for perm in hooks.PERMISSIONS
    ]
    await sweep.run("csrf", cases)


async def csrf_in_session(sweep: Sweep, fx: Fixtures) -> None:
    """`CSRF_USE_SESSIONS`: the check reads the secret from the database session."""
    cookie = [("cookie", f"sessionid={fx.sessions['alice']}")]
    cases = []
    for auth in CSRF_CHECKED:
        for perm in hooks.PERMISSIONS:
            path = f"/auth/{auth}/{perm}/"
            cases += [
                Case(f"{auth}/{perm}/POST, CSRF in the session", "POST", path, 201,
                     [*cookie, ("x-csrftoken", CSRF_SECRET)], {"n": 1},
                     check=json_is(user="alice")),
                Case(f"{auth}/{perm}/POST, no CSRF token", "POST", path, 403, cookie, {"n": 1},
                     check=json_is(detail="CSRF Failed: CSRF token missing.")),
            ]  # fmt: skip
    with override_settings(CSRF_USE_SESSIONS=True):
        await sweep.run("csrf in session", cases)


async def api_view(sweep: Sweep, fx: Fixtures) -> None:
    """One user, one scoped counter, whichever authenticator admitted the request."""

    def alice(r: ASGIResult) -> None:
        expect(r.json() == {"user": "alice", "books": 6}, r.json())

    def retry_after(r: ASGIResult) -> None:
        expect(int(r.headers["retry-after"]) >= 1, r.headers)

    url = "/api-view/"
    cases = [
        Case("alice via token", "GET", url, 200, credentials(fx, "token", "alice", "GET"),
             check=alice),
        Case("alice via session", "GET", url, 200, credentials(fx, "session", "alice", "GET"),
             check=alice),
        Case("alice via the async authenticator", "GET", url, 429,
             credentials(fx, "async_orm", "alice", "GET"), check=retry_after),
        Case("bob via the sync authenticator", "GET", url, 403,
             credentials(fx, "sync_orm", "bob", "GET"), check=json_is(detail=DENIED)),
        Case("anonymous", "GET", url, 401, []),
        Case("bad token", "GET", url, 401, credentials(fx, "all", "bad", "GET")),
    ]  # fmt: skip
    await sweep.run("api_view", cases)


async def overrides(sweep: Sweep, fx: Fixtures) -> None:
    """Views written for DRF: sync overrides of `initial`, `check_permissions`, ..."""
    alice = credentials(fx, "token", "alice", "GET")
    bob = credentials(fx, "token", "bob", "GET")
    ok = json_is(user="alice")
    xff = [("x-forwarded-for", "10.4.0.1")]
    before = await AuditEntry.objects.acount()
    cases = [
        Case("initial", "GET", "/override/initial/", 200, alice, check=ok),
        Case("initial, bob", "GET", "/override/initial/", 403, bob),
        Case("check_permissions", "GET", "/override/check-permissions/", 200, alice, check=ok),
        Case("check_permissions, bob", "GET", "/override/check-permissions/", 403, bob),
        *(
            Case(f"check_throttles #{n + 1}", "GET", "/override/check-throttles/",
                 429 if n == BURST - 1 else 200, xff)
            for n in range(BURST)
        ),
        Case("handle_exception", "GET", "/override/handle-exception/", 404, alice),
        Case("perform_authentication", "GET", "/override/perform-authentication/", 200, alice,
             check=ok),
        Case("lazy authentication", "GET", "/override/lazy-authentication/", 200, alice,
             check=ok),
        Case("lazy authentication, anonymous", "GET", "/override/lazy-authentication/", 401),
        Case("sync options", "OPTIONS", "/override/options/", 200, alice,
             check=json_is(books=6)),
    ]  # fmt: skip
    await sweep.run("view overrides", cases)
    # Every override that writes a row ran (and ran where the ORM works), once per request
    # that reached it: initial 1 (bob is denied inside super().initial() first),
    # check_permissions 2, check_throttles 3, handle_exception 1, perform_authentication 1.
    expect(await AuditEntry.objects.acount() - before == 8, "override audit rows")


# --- throttles x stores --------------------------------------------------------------------------


def _burst(
    label: str, path: str, headers: list[tuple[str, str]], *, ratelimit: bool = False
) -> list[Case]:
    def retry_after(result: ASGIResult) -> None:
        expect(int(result.headers["retry-after"]) >= 1, result.headers)

    def remaining(n: int) -> Callable[[ASGIResult], None]:
        # daf_drf's opt-in RateLimit headers (RateLimitHeadersMiddleware), on admitted ones.
        return lambda r: expect(f";r={1 - n};" in r.headers.get("ratelimit", ""), r.headers)

    return [
        Case(
            label=f"{label} #{n + 1}",
            method="GET",
            path=path,
            status=429 if n == BURST - 1 else 200,
            headers=headers,
            check=retry_after if n == BURST - 1 else remaining(n) if ratelimit else None,
        )
        for n in range(BURST)
    ]


async def _client(name: str, index: int) -> list[tuple[str, str]]:
    """A client of its own per case: a fresh user for `user`, else a fresh address."""
    if name == "user":
        user = await User.objects.acreate(username=f"throttled-{index}")
        token = await Token.objects.acreate(user=user)
        return [("authorization", f"Token {token.key}")]
    # NUM_PROXIES is unset, so DRF takes the client address from X-Forwarded-For.
    return [("x-forwarded-for", _address(index))]


def _address(index: int) -> str:
    return f"10.8.{index // 250}.{index % 250 + 1}"


async def _stored(store: str, key: str, redis_url: str) -> int:
    """How many requests `store` holds for `key`: the counters are where they should be."""
    if store in ("default", "dbcache"):
        return len(await caches["default" if store == "default" else "sweepdb"].aget(key, []))
    if store == "memory":
        entry = get_store("memory://")._data.get(key)
        return len(entry[0]) if entry else 0
    client = aredis.Redis.from_url(redis_url)
    try:
        return int(await client.llen(f"daf_drf:{key}"))
    finally:
        await client.aclose()


async def throttles(sweep: Sweep, redis_url: str) -> None:
    """daf_drf's throttles and a project's subclass, on every store, fail-closed."""
    urls = {"default": None, "dbcache": "cache://sweepdb", "memory": "memory://"}
    index = 0
    for store in THROTTLE_STORES:
        url = urls.get(store, redis_url)
        settings = {
            "THROTTLE_STORE": url,
            "THROTTLE_FAILURE": "closed",
            "THROTTLE_RATELIMIT_HEADERS": True,
        }
        with override_settings(DAF_DRF=settings):
            cases: list[Case] = []
            first = index + 1
            for name in hooks.THROTTLES:
                index += 1
                client = await _client(name, index)
                cases += _burst(f"{name}@{store}", f"/throttle/{name}/", client, ratelimit=True)
            # A VIP (found by the project throttle's sync ORM query) is never throttled.
            index += 1
            await Author.objects.acreate(name=f"vip:{_address(index)}")
            vip = [("x-forwarded-for", _address(index))]
            cases += [
                Case(f"daf_project@{store} vip #{n + 1}", "GET", "/throttle/daf_project/", 200,
                     vip)
                for n in range(BURST)
            ]  # fmt: skip
            await sweep.run("throttle x store", cases)
            stored = await _stored(store, f"throttle_anon_{_address(first)}", redis_url)
            expect(stored == 2, f"{store} holds {stored} requests for the anon client, not 2")
            if store == "redis":
                await hooks.SweepAnon().get_store().aclose()


async def project_throttles(sweep: Sweep) -> None:
    """Throttles written for DRF (LocMem and a DatabaseCache), and an async ORM throttle."""
    cases: list[Case] = []
    for index, name in enumerate(hooks.CACHE_ONLY_THROTTLES, start=1):
        cases += _burst(name, f"/throttle/{name}/", [("x-forwarded-for", f"10.7.0.{index}")])
    await Author.objects.acreate(name="blocked:10.6.0.2")
    cases += [
        Case("async_orm allowed", "GET", "/throttle/async_orm/", 200,
             [("x-forwarded-for", "10.6.0.1")]),
        Case("async_orm blocked", "GET", "/throttle/async_orm/", 429,
             [("x-forwarded-for", "10.6.0.2")],
             check=lambda r: expect(r.headers["retry-after"] == "7", r.headers)),
    ]  # fmt: skip
    await sweep.run("project throttles", cases)


# --- exception handlers x error paths ------------------------------------------------------------

ERROR_PATHS: list[tuple[str, str, str, int, object]] = [
    ("not found", "GET", "/exc/not-found/", 404, None),
    ("not authenticated", "GET", "/exc/not-authenticated/", 401, None),
    ("throttled", "GET", "/exc/throttled/", 429, None),
    ("invalid", "POST", "/exc/invalid/", 400, {}),
    ("unhandled", "GET", "/exc/crash/", 500, None),
]


def _error_check(handler: str, status: int) -> Callable[[ASGIResult], None] | None:
    if status == 500:
        return None

    def check(result: ASGIResult) -> None:
        data = result.json()
        if handler == "problem_details":
            expect(result.headers["content-type"] == "application/problem+json", result.headers)
            expect(data["status"] == status, data)
        elif status == 400:
            expect("title" in data, data)  # the field errors
        else:
            expect("detail" in data, data)
        if status == 401:
            expect(result.headers["www-authenticate"] == "Token", result.headers)
        if status == 429:
            expect(int(result.headers["retry-after"]) >= 1, result.headers)

    return check


async def exception_handlers(sweep: Sweep) -> None:
    for handler, dotted in hooks.EXCEPTION_HANDLERS.items():
        with override_settings(REST_FRAMEWORK={"EXCEPTION_HANDLER": dotted}):
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
            await sweep.run("exception handler x error", cases)
            written = await AuditEntry.objects.acount() - before
        # The ORM-writing handlers wrote one row per error, the unhandled one included.
        wanted = len(ERROR_PATHS) if "audit" in handler else 0
        expect(written == wanted, f"{handler} wrote {written} audit rows, not {wanted}")


# --- generic views and viewsets ------------------------------------------------------------------

VIEWSETS = ("books", "abooks", "drfbooks")
VIEWSET_CASES = 23


async def viewset(sweep: Sweep, fx: Fixtures, prefix: str) -> None:
    alice = [("authorization", f"Token {fx.tokens['alice']}")]
    bob = [("authorization", f"Token {fx.tokens['bob']}")]
    base = f"/gen/{prefix}/"
    b = fx.books
    isbn = f"{VIEWSETS.index(prefix) + 1}" * 13
    new = {"title": "New", "isbn": isbn, "price": "9.00", "author": fx.ursula_pk}
    full = {"title": "Renamed", "isbn": "0000000000002", "price": "20.00", "author": fx.ursula_pk}

    def count_is(n: int) -> Callable[[ASGIResult], None]:
        return lambda r: expect(r.json()["count"] == n, r.json())

    def first_title(title: str) -> Callable[[ASGIResult], None]:
        return lambda r: expect(r.json()["results"][0]["title"] == title, r.json())

    def reviews(n: int) -> Callable[[ASGIResult], None]:
        return lambda r: expect(r.json()["review_count"] == n, r.json())

    def listing(r: ASGIResult) -> None:
        data = r.json()
        expect(data["count"] == 6, data)
        expect(len(data["results"]) == 2, data)
        expect(bool(data["next"]), data)
        # The async SerializerMethodField, awaited per row.
        expect([row["review_count"] for row in data["results"]] == [2, 0], data)

    cases = [
        Case("list", "GET", base, 200, alice, check=listing),
        Case("list search", "GET", base + "?search=Book 1", 200, alice, check=count_is(1)),
        Case("list ordering", "GET", base + "?ordering=-price", 200, alice,
             check=first_title("Book 4")),
        Case("list filter", "GET", f"{base}?author={fx.ursula_pk}", 200, alice, check=count_is(4)),
        Case("list page 2", "GET", base + "?page=2", 200, alice, check=count_is(6)),
        Case("retrieve", "GET", f"{base}{b['b1']}/", 200, alice, check=reviews(2)),
        Case("retrieve, sync object permission", "GET", f"{base}{b['locked']}/", 403, alice),
        Case("retrieve, async object permission", "GET", f"{base}{b['archived']}/", 403, alice),
        Case("retrieve missing", "GET", f"{base}999999/", 404, alice),
        Case("aget_object action", "GET", f"{base}{b['b1']}/summary/", 200, alice,
             check=lambda r: expect(r.json() == {"title": "Book 1", "reviews": 2}, r.json())),
        Case("aget_object action denied", "GET", f"{base}{b['locked']}/summary/", 403, alice),
        Case("create", "POST", base, 201, alice, new, check=reviews(0)),
        Case("create invalid", "POST", base, 400, alice, {}),
        Case("update", "PUT", f"{base}{b['b2']}/", 200, alice, full,
             check=lambda r: expect(r.json()["title"] == "Renamed", r.json())),
        Case("partial_update", "PATCH", f"{base}{b['b3']}/", 200, alice, {"price": "1.00"},
             check=lambda r: expect(r.json()["price"] == "1.00", r.json())),
        Case("partial_update denied", "PATCH", f"{base}{b['locked']}/", 403, alice,
             {"price": "1.00"}),
        Case("destroy", "DELETE", f"{base}{b['b4']}/", 204, alice),
        Case("destroy denied", "DELETE", f"{base}{b['archived']}/", 403, alice),
        Case("options", "OPTIONS", base, 200, alice,
             check=lambda r: expect("POST" in r.json()["actions"], r.json())),
        Case("bob list", "GET", base, 200, bob),
        Case("bob create", "POST", base, 403, bob, new),
        Case("bob destroy", "DELETE", f"{base}{b['b1']}/", 403, bob),
        Case("anonymous list", "GET", base, 401, []),
    ]  # fmt: skip
    await sweep.run("generic views", cases)


async def browsable_api(sweep: Sweep, fx: Fixtures) -> None:
    """
    DRF's browsable API (`Accept: text/html`): it calls the views' sync hooks to build its
    forms (permissions, serializers, the object), so daf_drf renders it off the loop.

    Only the viewset with sync hooks: DRF's renderer and django-filter's form call
    `view.get_queryset()` themselves, which the generics docs say to keep sync for DRF's
    sync call sites. No retrieve page: see the known bug in docs (async `SerializerMethodField`
    getters leave a coroutine in the PUT form's data, a 500).
    """
    html = [("accept", "text/html")]
    alice = [*html, ("authorization", f"Token {fx.tokens['alice']}")]

    def page(r: ASGIResult) -> None:
        expect(r.headers["content-type"].startswith("text/html"), r.headers)
        expect(b"Django REST framework" in r.body, r.body[:200])

    cases = [
        Case(f"{auth}/{perm}", "GET", f"/auth/{auth}/{perm}/", 200,
             [*html, *credentials(fx, auth, "alice", "GET")], check=page)
        for auth in ("session", "token", "sync_orm", "async_orm")
        for perm in hooks.PERMISSIONS
    ]  # fmt: skip
    base = "/gen/books/"
    cases += [
        Case("books list", "GET", base, 200, alice, check=page),
        Case("books list, bob", "GET", base, 200,
             [*html, ("authorization", f"Token {fx.tokens['bob']}")], check=page),
        Case("books retrieve denied", "GET", f"{base}{fx.books['locked']}/", 403, alice,
             check=page),
        Case("books action", "GET", f"{base}{fx.books['b1']}/summary/", 200, alice, check=page),
    ]  # fmt: skip
    await sweep.run("browsable API", cases)


async def serializers_and_transactions(sweep: Sweep, fx: Fixtures) -> None:
    """`adata`/`ais_valid`/`asave` (functions and `AsyncSerializerMixin`), async model
    attributes, and `daf_drf.transaction.atomic` committing and rolling back."""
    alice = [("authorization", f"Token {fx.tokens['alice']}")]
    author = await Author.objects.aget(name="Ursula")
    url = f"/authors/{author.pk}/rename/"

    def listed(r: ASGIResult) -> None:
        rows = r.json()
        expect([row["book_title"] for row in rows] == ["Book 1", "Book 1"], rows)
        expect([row["label"] for row in rows] == ["****", "*****"], rows)

    before = await AuditEntry.objects.acount()
    cases = [
        Case("adata, async attributes", "GET", "/reviews/", 200, alice, check=listed),
        Case("mixin: ais_valid, asave, adata", "POST", "/reviews/", 201, alice,
             {"book": fx.books["b2"], "stars": 3},
             check=json_is(book_title="Book 2", label="***")),
        Case("mixin: invalid", "POST", "/reviews/", 400, alice, {"stars": 3}),
        Case("functions: ais_valid, asave, adata", "POST", "/plain-reviews/", 201, alice,
             {"book": fx.books["b3"], "stars": 1}, check=json_is(stars=1)),
        Case("atomic, committed", "POST", url, 200, alice, {"name": "Ursula K."},
             check=json_is(count=1)),
        Case("atomic, rolled back", "POST", url, 400, alice, {"name": "Nobody", "fail": True}),
    ]  # fmt: skip
    await sweep.run("serializers and transactions", cases)
    # The committed block wrote its row, the rolled-back one nothing (nor the rename).
    expect(await AuditEntry.objects.acount() - before == 1, "atomic audit rows")
    expect(not await Author.objects.filter(name="Nobody").aexists(), "rename not rolled back")


# --- tasks ---------------------------------------------------------------------------------------

TASK_CREDENTIALS = ("token", "session", "basic", "sync_orm", "async_orm")


async def tasks(sweep: Sweep, fx: Fixtures) -> None:
    """`enqueue_response` (immediate backend) and the status view, via every authenticator."""
    enqueues = [
        Case(f"enqueue via {auth}", "POST", "/tasks/add/", 202,
             credentials(fx, auth, "alice", "POST"), {"a": 2, "b": 3})
        for auth in TASK_CREDENTIALS
    ]  # fmt: skip
    results = await sweep.run("tasks", enqueues)
    locations = [urlsplit(r.headers.get("location", "/missing/")).path for r in results]
    cases = [
        Case(f"status via {auth}", "GET", location, 200, credentials(fx, auth, "alice", "GET"),
             check=json_is(status="SUCCESSFUL", result=5))
        for auth, location in zip(TASK_CREDENTIALS, locations, strict=True)
    ]  # fmt: skip
    cases += [
        Case("status of another user's task", "GET", locations[0], 404,
             credentials(fx, "token", "bob", "GET")),
        Case("status, anonymous", "GET", locations[0], 401, []),
        Case("enqueue, anonymous", "POST", "/tasks/add/", 401, [], {"a": 1, "b": 1}),
    ]  # fmt: skip
    await sweep.run("tasks", cases)


PLANNED = {
    "auth x permission": len(hooks.AUTHENTICATORS) * len(IDENTITIES) * len(hooks.PERMISSIONS) * 2,
    "csrf": (len(CSRF_CHECKED) + 1) * len(hooks.PERMISSIONS),
    "csrf in session": 2 * len(CSRF_CHECKED) * len(hooks.PERMISSIONS),
    "api_view": 6,
    "view overrides": 12,
    "throttle x store": len(THROTTLE_STORES) * (len(hooks.THROTTLES) + 1) * BURST,
    "project throttles": len(hooks.CACHE_ONLY_THROTTLES) * BURST + 2,
    "exception handler x error": len(hooks.EXCEPTION_HANDLERS) * len(ERROR_PATHS),
    "generic views": len(VIEWSETS) * VIEWSET_CASES,
    "tasks": 2 * len(TASK_CREDENTIALS) + 3,
    "serializers and transactions": 6,
    "browsable API": 4 * len(hooks.PERMISSIONS) + 4,
}
"""Cases per family, per ASGI application the sweep runs through."""
