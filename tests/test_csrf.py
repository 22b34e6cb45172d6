"""
CSRF in daf_drf's SessionAuthentication: exactly DRF's rule.

Only a request authenticated by its session is checked, and only for unsafe methods. Token
and Basic requests are never checked. Requests go through Django's async request path with
CSRF checks enforced, as a browser's would be (`enforce_csrf_checks=True`).
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.models import User
from django.middleware.csrf import CSRF_SESSION_KEY
from django.test import AsyncClient, TestCase, override_settings
from django.urls import path
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from daf_drf import authentication
from daf_drf.views import APIView

SECRET_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class Echo(APIView):
    permission_classes = [AllowAny]

    async def get(self, request: Any) -> Response:
        return Response({"user": request.user.get_username() or None})

    async def post(self, request: Any) -> Response:
        return Response({"user": request.user.get_username() or None})

    put = patch = delete = post


class CsrfExemptSessionAuthentication(authentication.SessionAuthentication):
    def enforce_csrf(self, request: Any) -> None:
        return


urlpatterns = [
    path("session/", Echo.as_view(authentication_classes=[authentication.SessionAuthentication])),
    path(
        "token-then-session/",
        Echo.as_view(
            authentication_classes=[
                authentication.TokenAuthentication,
                authentication.SessionAuthentication,
            ]
        ),
    ),
    path(
        "session-then-token/",
        Echo.as_view(
            authentication_classes=[
                authentication.SessionAuthentication,
                authentication.TokenAuthentication,
            ]
        ),
    ),
    path(
        "basic-then-session/",
        Echo.as_view(
            authentication_classes=[
                authentication.BasicAuthentication,
                authentication.SessionAuthentication,
            ]
        ),
    ),
    path("exempt/", Echo.as_view(authentication_classes=[CsrfExemptSessionAuthentication])),
]


@override_settings(
    ROOT_URLCONF=__name__,
    PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
)
class CsrfTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.alice = User.objects.create_user("alice", password="wonderland")
        cls.token = Token.objects.create(user=cls.alice)

    def setUp(self) -> None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
        self.browser = AsyncClient(enforce_csrf_checks=True)

    async def login(self) -> None:
        await self.browser.aforce_login(self.alice)

    def set_csrf_cookie(self) -> str:
        secret = get_random_string(32, SECRET_CHARS)
        self.browser.cookies["csrftoken"] = secret
        return secret


class TestSessionRequests(CsrfTestCase):
    async def test_unsafe_method_without_csrf_cookie_is_403_csrf_failed(self) -> None:
        await self.login()
        response = await self.browser.post("/session/")
        assert response.status_code == 403
        assert response.json() == {"detail": "CSRF Failed: CSRF cookie not set."}

    async def test_unsafe_method_with_cookie_but_no_token_is_403(self) -> None:
        await self.login()
        self.set_csrf_cookie()
        response = await self.browser.post("/session/")
        assert response.status_code == 403
        assert response.json() == {"detail": "CSRF Failed: CSRF token missing."}

    async def test_unsafe_method_with_wrong_token_is_403(self) -> None:
        await self.login()
        self.set_csrf_cookie()
        wrong = get_random_string(32, SECRET_CHARS)
        response = await self.browser.post("/session/", headers={"X-CSRFToken": wrong})
        assert response.status_code == 403
        assert response.json()["detail"].startswith("CSRF Failed: CSRF token from the ")

    async def test_unsafe_method_with_matching_token_passes(self) -> None:
        await self.login()
        secret = self.set_csrf_cookie()
        response = await self.browser.post("/session/", headers={"X-CSRFToken": secret})
        assert response.status_code == 200
        assert response.json() == {"user": "alice"}

    async def test_form_field_token_passes(self) -> None:
        await self.login()
        secret = self.set_csrf_cookie()
        response = await self.browser.post("/session/", {"csrfmiddlewaretoken": secret})
        assert response.status_code == 200

    async def test_put_patch_delete_are_checked(self) -> None:
        await self.login()
        for method in ("put", "patch", "delete"):
            response = await getattr(self.browser, method)("/session/")
            assert response.status_code == 403, method

    async def test_safe_methods_are_never_checked(self) -> None:
        await self.login()
        for method in ("get", "head", "options"):
            response = await getattr(self.browser, method)("/session/")
            assert response.status_code == 200, method

    async def test_anonymous_unsafe_request_is_not_checked(self) -> None:
        response = await self.browser.post("/session/")
        assert response.status_code == 200
        assert response.json() == {"user": None}

    async def test_overridden_enforce_csrf_is_honoured(self) -> None:
        await self.login()
        response = await self.browser.post("/exempt/")
        assert response.status_code == 200
        assert response.json() == {"user": "alice"}


class TestOtherSchemes(CsrfTestCase):
    async def test_token_request_is_not_checked_even_with_a_session(self) -> None:
        await self.login()
        response = await self.browser.post(
            "/token-then-session/", headers={"Authorization": f"Token {self.token.key}"}
        )
        assert response.status_code == 200

    async def test_basic_request_is_not_checked(self) -> None:
        import base64

        credentials = base64.b64encode(b"alice:wonderland").decode()
        response = await self.browser.post(
            "/basic-then-session/", headers={"Authorization": f"Basic {credentials}"}
        )
        assert response.status_code == 200
        assert response.json() == {"user": "alice"}

    async def test_session_listed_first_wins_and_is_checked(self) -> None:
        await self.login()
        response = await self.browser.post(
            "/session-then-token/", headers={"Authorization": f"Token {self.token.key}"}
        )
        assert response.status_code == 403
        assert response.json()["detail"].startswith("CSRF Failed: ")


@override_settings(CSRF_USE_SESSIONS=True)
class TestCsrfInTheSession(CsrfTestCase):
    """The secret lives in the (database) session: read it without a sync query on the loop."""

    async def store_secret(self) -> str:
        secret = get_random_string(32, SECRET_CHARS)
        session = await self.browser.asession()
        await session.aset(CSRF_SESSION_KEY, secret)
        await session.asave()
        return secret

    async def test_matching_token_from_the_session_passes(self) -> None:
        await self.login()
        secret = await self.store_secret()
        response = await self.browser.post("/session/", headers={"X-CSRFToken": secret})
        assert response.status_code == 200

    async def test_missing_token_is_403(self) -> None:
        await self.login()
        await self.store_secret()
        response = await self.browser.post("/session/")
        assert response.status_code == 403
        assert response.json() == {"detail": "CSRF Failed: CSRF token missing."}

    async def test_no_secret_in_the_session_is_403_cookie_not_set(self) -> None:
        await self.login()
        response = await self.browser.post("/session/")
        assert response.json() == {"detail": "CSRF Failed: CSRF cookie not set."}
