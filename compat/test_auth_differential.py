"""
Authentication, differentially: DRF is the oracle.

A DRF view with DRF's own authentication classes and a daf_drf view with daf_drf's classes get
the same requests; status, body and `WWW-Authenticate` must be identical. That covers DRF's
header parsing and messages, and its 401-vs-403 rule: 401 with `WWW-Authenticate` when the
first authenticator has an `authenticate_header`, 403 without it otherwise, and 403 for an
authenticated user who is denied.

The same classes in a DRF view (their sync `authenticate`) are compared with DRF's too.

The CSRF matrix needs a logged-in browser (a session cookie, a CSRF cookie, CSRF checks
enforced), so it uses a small comparison of its own below: every method against every CSRF
state and kind of authentication, DRF's answer and daf_drf's compared.
"""

from __future__ import annotations

import base64
import itertools
import types
from typing import Any

from django.contrib.auth.models import User
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework import authentication as drf_auth
from rest_framework import views as drf_views
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.response import Response

from compat.differential import assert_same_response
from daf_drf import authentication as daf_auth
from daf_drf.test import AsyncAPIClient
from daf_drf.views import APIView

VALID_KEY = "a" * 40
INACTIVE_KEY = "e" * 40
SECRET = "s" * 32


def basic(credentials: bytes) -> str:
    return "Basic " + base64.b64encode(credentials).decode()


HEADERS: dict[str, str | None] = {
    "none": None,
    "token": f"Token {VALID_KEY}",
    "token-lowercase-keyword": f"token {VALID_KEY}",
    "token-inactive": f"Token {INACTIVE_KEY}",
    "token-unknown": "Token nope",
    "token-empty": "Token",
    "token-spaces": "Token a b",
    "basic": basic(b"alice:pw"),
    "basic-wrong-password": basic(b"alice:wrong"),
    "basic-inactive": basic(b"eve:pw"),
    "basic-no-colon": basic(b"alice"),
    "basic-not-base64": "Basic !!!",
    "basic-empty": "Basic",
    "basic-spaces": "Basic a b",
    "other-scheme": "Bearer abc",
}

# name -> (DRF's classes, daf_drf's classes)
AUTHENTICATORS: dict[str, tuple[list[Any], list[Any]]] = {
    "token": ([drf_auth.TokenAuthentication], [daf_auth.TokenAuthentication]),
    "basic": ([drf_auth.BasicAuthentication], [daf_auth.BasicAuthentication]),
    "session": ([drf_auth.SessionAuthentication], [daf_auth.SessionAuthentication]),
    "session,token": (
        [drf_auth.SessionAuthentication, drf_auth.TokenAuthentication],
        [daf_auth.SessionAuthentication, daf_auth.TokenAuthentication],
    ),
    "token,basic,session": (
        [
            drf_auth.TokenAuthentication,
            drf_auth.BasicAuthentication,
            drf_auth.SessionAuthentication,
        ],
        [
            daf_auth.TokenAuthentication,
            daf_auth.BasicAuthentication,
            daf_auth.SessionAuthentication,
        ],
    ),
    "none": ([], []),
}


def describe(request: Any) -> dict[str, Any]:
    return {
        "user": request.user.get_username() or None,
        "auth": type(request.auth).__name__,
        "authenticator": type(request.successful_authenticator).__name__,
    }


class drf_side:  # a namespace, so that both views are named "Who"
    class Who(drf_views.APIView):
        def get(self, request: Any) -> Response:
            return Response(describe(request))

        def post(self, request: Any) -> Response:
            return Response(describe(request))

        put = patch = delete = post


class daf_side:
    class Who(APIView):
        async def get(self, request: Any) -> Response:
            return Response(describe(request))

        async def post(self, request: Any) -> Response:
            return Response(describe(request))

        put = patch = delete = post


DrfWho, DafWho = drf_side.Who, daf_side.Who


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class AuthDifferentialTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.alice = User.objects.create_user("alice", password="pw")
        Token.objects.create(key=VALID_KEY, user=cls.alice)
        eve = User.objects.create_user("eve", password="pw", is_active=False)
        Token.objects.create(key=INACTIVE_KEY, user=eve)


class TestAuthenticationMatrix(AuthDifferentialTestCase):
    async def check(self, permission: Any, drf_uses_daf_classes: bool = False) -> set[int]:
        statuses = set()
        for (name, (drf_classes, daf_classes)), (label, header) in itertools.product(
            AUTHENTICATORS.items(), HEADERS.items()
        ):
            with self.subTest(authenticators=name, header=label):
                drf = DrfWho.as_view(
                    authentication_classes=daf_classes if drf_uses_daf_classes else drf_classes,
                    permission_classes=[permission],
                )
                daf = DafWho.as_view(
                    authentication_classes=drf_classes if drf_uses_daf_classes else daf_classes,
                    permission_classes=[permission],
                )
                outcome = await assert_same_response(
                    drf, daf, "GET", headers={"Authorization": header} if header else {}
                )
                statuses.add(outcome.status)
        return statuses

    async def test_is_authenticated(self) -> None:
        assert await self.check(IsAuthenticated) == {200, 401, 403}

    async def test_authenticated_but_denied_is_403(self) -> None:
        assert await self.check(IsAdminUser) == {401, 403}

    async def test_allow_any(self) -> None:
        # Bad credentials still fail with AllowAny, as in DRF.
        assert await self.check(AllowAny) == {200, 401, 403}

    async def test_daf_classes_in_a_drf_view_match_drfs_classes(self) -> None:
        # The left side is a DRF view with daf_drf's classes (their sync `authenticate`);
        # the right side a daf_drf view with DRF's classes (run by the hook rule).
        assert await self.check(IsAuthenticated, drf_uses_daf_classes=True) == {200, 401, 403}


# --- CSRF -------------------------------------------------------------------------------------

CSRF_STATES = ("no-cookie", "cookie-only", "wrong-header", "header", "form-field")
METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
LOGINS = ("session", "anonymous", "token-with-session")


def csrf_urlconf() -> types.ModuleType:
    module = types.ModuleType("compat.test_auth_differential_urls")
    drf_classes = [drf_auth.TokenAuthentication, drf_auth.SessionAuthentication]
    daf_classes = [daf_auth.TokenAuthentication, daf_auth.SessionAuthentication]
    module.urlpatterns = [  # type: ignore[attr-defined]
        path(
            "drf/",
            DrfWho.as_view(authentication_classes=drf_classes, permission_classes=[AllowAny]),
        ),
        path(
            "daf/",
            DafWho.as_view(authentication_classes=daf_classes, permission_classes=[AllowAny]),
        ),
    ]
    return module


class TestCsrfMatrix(AuthDifferentialTestCase):
    async def send(self, url: str, method: str, state: str, login: str) -> tuple[int, bytes]:
        client = AsyncAPIClient(enforce_csrf_checks=True)
        if login in ("session", "token-with-session"):
            await client.aforce_login(self.alice)
        if state != "no-cookie":
            client.cookies["csrftoken"] = SECRET
        headers: dict[str, str] = {}
        data = None
        if state == "wrong-header":
            headers["X-CSRFToken"] = "w" * 32
        elif state == "header":
            headers["X-CSRFToken"] = SECRET
        elif state == "form-field":
            data = {"csrfmiddlewaretoken": SECRET}
        if login == "token-with-session":
            headers["Authorization"] = f"Token {VALID_KEY}"
        if method in ("GET", "HEAD"):
            response = await client.generic(method, url, headers=headers)
        else:
            send = getattr(client, method.lower())
            response = await send(url, data, format="multipart" if data else None, headers=headers)
        return response.status_code, bytes(response.content)

    async def test_csrf_matrix_matches_drf(self) -> None:
        statuses = set()
        with override_settings(ROOT_URLCONF=csrf_urlconf()):
            for method, state, login in itertools.product(METHODS, CSRF_STATES, LOGINS):
                with self.subTest(method=method, state=state, login=login):
                    drf = await self.send("/drf/", method, state, login)
                    daf = await self.send("/daf/", method, state, login)
                    assert drf == daf
                    statuses.add(drf[0])
                    unsafe = method not in ("GET", "HEAD", "OPTIONS")
                    checked = unsafe and login == "session" and state not in ("header",)
                    form_ok = method == "POST" and state == "form-field"
                    assert drf[0] == (403 if checked and not form_ok else 200)
        assert statuses == {200, 403}
