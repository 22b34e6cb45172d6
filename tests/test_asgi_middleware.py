"""
`startproject`'s middleware through `daf_drf.asgi`: Django's answers, without thread hops.

Each scenario is a sequence of requests (cookies carried from one response to the next, as a
browser does) run once through Django's stock `ASGIHandler` and once through the entry; the
statuses, bodies, headers and cookies (names and attributes; signed values differ by their
timestamp) must be the same. Separately, the entry must make no `sync_to_async` call for
the middleware where the rule of `daf_drf._asgi_middleware` holds, and Django's hop where it
does not (a session save, CSRF in the session, a form POST, messages, a subclass).
"""

from __future__ import annotations

import os
from http.cookies import SimpleCookie
from typing import Any

import pytest
from django.contrib import messages
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sessions.models import Session
from django.core.handlers.asgi import ASGIHandler as StockASGIHandler
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from daf_drf.asgi import ASGIHandler
from daf_drf.asgi import _middleware as _asgi_middleware
from tests.asgi_client import request, run_on_fresh_loop
from tests.support.hops import count_hops
from tests.support.projects import STARTPROJECT_MIDDLEWARE

# --- views -----------------------------------------------------------------------------------


async def hello(request: Any) -> HttpResponse:
    return HttpResponse("hello")


async def session_set(request: Any) -> HttpResponse:
    await request.session.aset("colour", "blue")
    return HttpResponse("set")


async def session_get(request: Any) -> HttpResponse:
    return HttpResponse(str(await request.session.aget("colour")))


async def session_flush(request: Any) -> HttpResponse:
    await request.session.aflush()
    return HttpResponse("flushed")


async def token(request: Any) -> HttpResponse:
    return HttpResponse(get_token(request))


def form(request: Any) -> HttpResponse:
    return HttpResponse(f"posted {request.method}")


@csrf_exempt
async def exempt(request: Any) -> HttpResponse:
    return HttpResponse("exempt")


def message_add(request: Any) -> HttpResponse:
    messages.info(request, "saved")
    return HttpResponse("added")


def message_read(request: Any) -> HttpResponse:
    return HttpResponse(",".join(str(m) for m in messages.get_messages(request)))


async def user(request: Any) -> HttpResponse:
    return HttpResponse(str(await request.auser()))


urlpatterns = [
    path("hello", hello),
    path("session/set", session_set),
    path("session/get", session_get),
    path("session/flush", session_flush),
    path("token", token),
    path("form", form),
    path("exempt", exempt),
    path("messages/add", message_add),
    path("messages/read", message_read),
    path("user", user),
    path("slash/", hello),
]


class MySessionMiddleware(SessionMiddleware):
    """A subclass: the entry must not assume it behaves like Django's."""


# --- harness ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def startproject(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = list(STARTPROJECT_MIDDLEWARE)
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False


class Browser:
    """Sends requests through one app, carrying cookies like a browser; counts hops."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookies: dict[str, str] = {}
        self.hops: list[str] = []

    async def go(
        self, url: str, method: str = "GET", body: bytes = b"", extra: dict[str, str] | None = None
    ) -> dict[str, Any]:
        headers = [(b"host", b"testserver")]
        if self.cookies:
            cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            headers.append((b"cookie", cookie.encode()))
        for key, value in (extra or {}).items():
            headers.append((key.encode(), value.encode()))
        if body:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
            headers.append((b"content-length", str(len(body)).encode()))
        with count_hops() as hops:
            response = await request(self.app, url, method=method, body=body, headers=headers)
        self.hops.extend(hops)
        cookies = []
        for name, value in response["headers"]:
            if name.lower() == b"set-cookie":
                jar: SimpleCookie = SimpleCookie()
                jar.load(value.decode())
                for key, morsel in jar.items():
                    if morsel["max-age"] == "0":
                        self.cookies.pop(key, None)
                    else:
                        self.cookies[key] = morsel.value
                    attrs = {k: v for k, v in morsel.items() if v and k != "expires"}
                    cookies.append((key, attrs))
        response["cookies"] = sorted(cookies, key=repr)
        response["header_set"] = sorted(
            (k.lower(), v) for k, v in response["headers"] if k.lower() != b"set-cookie"
        )
        return response


def run_scenario(app: Any, steps: list[tuple[Any, ...]]) -> tuple[list[dict[str, Any]], Browser]:
    async def go() -> list[dict[str, Any]]:
        browser = Browser(app)
        out = []
        for step in steps:
            url = step[0]
            method = step[1] if len(step) > 1 else "GET"
            body = step[2] if len(step) > 2 else b""
            extra = step[3] if len(step) > 3 else None
            if callable(body):
                body = body(browser)
            out.append(await browser.go(url, method, body, extra))
        out.append(browser)  # type: ignore[arg-type]
        return out

    results = run_on_fresh_loop(go)
    return results[:-1], results[-1]


def same_answers(steps: list[tuple[Any, ...]]) -> tuple[Browser, Browser]:
    """Run `steps` through the stock handler and the entry; assert identical answers."""
    stock, stock_browser = run_scenario(StockASGIHandler(), steps)
    ours, our_browser = run_scenario(ASGIHandler(), steps)
    for step, a, b in zip(steps, stock, ours, strict=True):
        assert b["status"] == a["status"], step
        assert b["body"] == a["body"] or step[0] == "/token", step
        assert b["header_set"] == a["header_set"], step
        assert [c[0] for c in b["cookies"]] == [c[0] for c in a["cookies"]], step
        assert b["cookies"] == a["cookies"] or step[0] == "/token", step
    assert our_browser.cookies.keys() == stock_browser.cookies.keys()
    return stock_browser, our_browser


def csrf_body(browser: Browser) -> bytes:
    return f"csrfmiddlewaretoken={browser.cookies.get('csrftoken', '')}".encode()


# --- the same answers ------------------------------------------------------------------------


def test_entry_installs_every_startproject_middleware() -> None:
    handler = ASGIHandler()
    assert sorted(handler.inline_middleware) == sorted(
        name.rsplit(".", 1)[1] for name in STARTPROJECT_MIDDLEWARE
    )


def test_plain_get_answers_as_stock_and_makes_no_hop() -> None:
    stock, ours = same_answers([("/hello",), ("/user",)])
    assert ours.hops == []
    assert len(stock.hops) > 10


@pytest.mark.parametrize("engine", ["signed_cookies", "cache"])
def test_session_write_read_and_flush_answer_as_stock(settings: Any, engine: str) -> None:
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"
    _stock, ours = same_answers(
        [("/session/get",), ("/session/set",), ("/session/get",), ("/session/flush",),
         ("/session/get",)]
    )  # fmt: skip
    # Only the requests that save the session hop, for SessionMiddleware.process_response.
    assert ours.hops.count("SessionMiddleware.process_response") == 2
    assert "SessionMiddleware.process_request" not in ours.hops


@pytest.mark.parametrize("engine", ["signed_cookies", "cache"])
def test_session_values_round_trip_through_the_entry(settings: Any, engine: str) -> None:
    settings.SESSION_ENGINE = f"django.contrib.sessions.backends.{engine}"
    results, _browser = run_scenario(
        ASGIHandler(),
        [("/session/set",), ("/session/get",), ("/session/flush",), ("/session/get",)],
    )
    assert [r["body"] for r in results] == [b"set", b"blue", b"flushed", b"None"]


@pytest.mark.parametrize("use_sessions", [False, True])
def test_csrf_accepts_and_rejects_as_stock(settings: Any, use_sessions: bool) -> None:
    settings.CSRF_USE_SESSIONS = use_sessions
    steps: list[tuple[Any, ...]] = [
        ("/form", "POST", b"a=1"),  # no token: 403
        ("/exempt", "POST", b"a=1"),  # csrf_exempt: accepted
        ("/token",),  # the token cookie (or session key) is set
        ("/form", "POST", b"a=1"),  # a cookie but no token in the form: 403
        ("/form", "POST", csrf_body),  # the token: accepted (cookie mode)
        ("/form", "POST", b"a=1", {"origin": "http://evil.example"}),  # bad origin: 403
    ]
    _stock, ours = same_answers(steps)
    results, _ = run_scenario(ASGIHandler(), steps)
    assert results[0]["status"] == 403
    assert results[1]["status"] == 200
    if not use_sessions:
        assert results[4]["status"] == 200
        # Cookie mode: only the enforcing process_view of the four form POSTs hops.
        assert ours.hops.count("CsrfViewMiddleware.process_view") == 4
        assert "CsrfViewMiddleware.process_request" not in ours.hops
        assert "CsrfViewMiddleware.process_response" not in ours.hops
    else:
        # Session mode: the secret lives in the session, so CSRF's hooks hop as Django's do.
        assert "CsrfViewMiddleware.process_request" in ours.hops


def test_messages_answer_as_stock() -> None:
    _stock, ours = same_answers(
        [("/messages/add",), ("/hello",), ("/messages/read",), ("/messages/read",)]
    )
    # Reading or adding messages makes MessageMiddleware store them: Django's hop. A request
    # that leaves them alone (/hello) stores nothing and makes none.
    assert ours.hops.count("MessageMiddleware.process_response") == 3


def test_common_and_security_headers_and_redirects_answer_as_stock(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = False
    same_answers([("/slash",), ("/slash/",), ("/nowhere",)])
    settings.SECURE_SSL_REDIRECT = True
    _stock, ours = same_answers([("/hello",)])
    assert ours.hops == []


def test_disallowed_host_answers_as_stock(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["example.com"]
    same_answers([("/hello",)])


# --- Django's behaviour where the rule does not hold ------------------------------------------


def test_a_subclass_of_a_known_middleware_keeps_djangos_hops(settings: Any) -> None:
    settings.MIDDLEWARE = [
        f"{__name__}.MySessionMiddleware" if "SessionMiddleware" in name else name
        for name in STARTPROJECT_MIDDLEWARE
    ]
    handler = ASGIHandler()
    assert "MySessionMiddleware" not in handler.inline_middleware
    _, browser = run_scenario(handler, [("/hello",)])
    assert browser.hops.count("SessionMiddleware.process_request") == 1
    assert browser.hops.count("SessionMiddleware.process_response") == 1


def test_save_every_request_saves_in_djangos_hop(settings: Any) -> None:
    settings.SESSION_SAVE_EVERY_REQUEST = True
    _stock, ours = same_answers([("/session/set",), ("/hello",)])
    assert ours.hops.count("SessionMiddleware.process_response") == 2


def test_unknown_middleware_code_keeps_every_hop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_asgi_middleware, "_verdicts", {None: False})
    handler = ASGIHandler()
    assert handler.inline_middleware == []
    _, browser = run_scenario(handler, [("/hello",)])
    assert len(browser.hops) >= 13


def test_changed_code_of_one_middleware_keeps_only_its_hops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.middleware.csrf import CsrfViewMiddleware

    monkeypatch.setattr(_asgi_middleware, "_verdicts", {CsrfViewMiddleware: False})
    handler = ASGIHandler()
    assert "CsrfViewMiddleware" not in handler.inline_middleware
    assert len(handler.inline_middleware) == len(STARTPROJECT_MIDDLEWARE) - 1
    _, browser = run_scenario(handler, [("/hello",)])
    # CSRF's three hooks hop; `response.close()` does not: the thread they bound holds no
    # connection for the end-of-request check to close.
    assert sorted(browser.hops) == [
        "CsrfViewMiddleware.process_request",
        "CsrfViewMiddleware.process_response",
        "CsrfViewMiddleware.process_view",
    ]


def test_fingerprints_of_the_installed_django_are_known() -> None:
    # On a Django release whose middleware code changed, this fails and the entry keeps
    # Django's hops for that code (daf_drf.W053) until the rules are re-read and added.
    from django.utils.module_loading import import_string

    assert _asgi_middleware.verified()
    for dotted in _asgi_middleware.RULES:
        assert _asgi_middleware.verified(import_string(dotted)), dotted


# --- the default (database) session engine ---------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_database_session_engine_saves_in_djangos_hop_and_reads_back(settings: Any) -> None:
    # `startproject`'s engine. A query on the loop would raise `SynchronousOnlyOperation`:
    # these requests show that the entry runs on the loop only the hooks that touch no
    # database, and saves in Django's hop. The requests run as under a server (each thread
    # closes its connection at request_finished), so no connection outlives the test.
    assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.db"
    steps: list[tuple[Any, ...]] = [
        ("/session/set",),
        ("/session/get",),
        ("/hello",),
        ("/session/flush",),
        ("/session/get",),
    ]
    results, browser = run_scenario(ASGIHandler(), steps)
    assert [r["status"] for r in results] == [200] * 5
    assert [r["body"] for r in results] == [b"set", b"blue", b"hello", b"flushed", b"None"]
    # /session/set and /session/flush modify the session, so their process_response runs in
    # Django's hop (flush then deletes the cookie); no other session hook hops.
    assert browser.hops.count("SessionMiddleware.process_response") == 2
    assert "SessionMiddleware.process_request" not in browser.hops
    assert not Session.objects.exists()
