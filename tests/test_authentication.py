"""
daf_drf.authentication: DRF's authenticators with async siblings, and any other authenticator
in a daf_drf view.

Every request goes through Django's async request path (`AsyncClient`), with
`DJANGO_ALLOW_ASYNC_UNSAFE` unset, so a sync ORM call on the loop would fail the test.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import itertools
import json
import os
import types
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.handlers.asgi import ASGIHandler
from django.test import TestCase, TransactionTestCase, override_settings
from django.urls import path
from rest_framework import authentication as drf_authentication
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView as DRFAPIView

from daf_drf import authentication
from daf_drf.exceptions import UserNotLoaded
from daf_drf.views import APIView
from tests.support.hops import ThreadHops

FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def describe(request: Any) -> dict[str, Any]:
    return {
        "user": request.user.get_username() or None,
        "auth": type(request.auth).__name__,
        "authenticator": type(request.successful_authenticator).__name__,
    }


class WhoAmI(APIView):
    permission_classes = [IsAuthenticated]

    async def get(self, request: Any) -> Response:
        return Response(describe(request))

    async def post(self, request: Any) -> Response:
        return Response(describe(request))


class DRFWhoAmI(DRFAPIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Any) -> Response:
        return Response(describe(request))


class LazyView(APIView):
    """DRF's lazy-authentication idiom."""

    def perform_authentication(self, request: Any) -> None:
        pass

    async def get(self, request: Any) -> Response:
        if request.query_params.get("await"):
            user = await request.auser()
            auth = await request.aauth()
            return Response({"user": user.get_username(), "auth": type(auth).__name__})
        return Response({"user": request.user.get_username()})


class ExpiringTokenAuthentication(authentication.TokenAuthentication):
    """A project's subclass with an extra sync check in `authenticate_credentials`."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if user.username == "expired":
            raise exceptions.AuthenticationFailed("Token has expired.")
        return user, token


class HeaderAuthentication(drf_authentication.BaseAuthentication):
    """A project's sync authenticator that queries the ORM (like SimpleJWT's)."""

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        name = request.headers.get("x-user")
        if name is None:
            return None
        return (User.objects.get(username=name), "header")


class AsyncHeaderAuthentication(drf_authentication.BaseAuthentication):
    async def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        name = request.headers.get("x-user")
        if name is None:
            return None
        return (await User.objects.aget(username=name), "async-header")


def passthrough(func: Any) -> Any:
    """An ordinary decorator: the result is a plain function returning a coroutine."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


class DecoratedAsyncAuthentication(drf_authentication.BaseAuthentication):
    @passthrough
    async def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        name = request.headers.get("x-user")
        if name is None:
            return None
        return (await User.objects.aget(username=name), "decorated")


class IsAuthenticatedAsync(BasePermission):
    async def has_permission(self, request: Any, view: Any) -> bool:
        return bool((await request.auser()).is_authenticated)


def view(cls: type, *authenticators: type) -> Any:
    return cls.as_view(authentication_classes=list(authenticators))


urlpatterns = [
    path("session/", view(WhoAmI, authentication.SessionAuthentication)),
    path("token/", view(WhoAmI, authentication.TokenAuthentication)),
    path("basic/", view(WhoAmI, authentication.BasicAuthentication)),
    path("expiring/", view(WhoAmI, ExpiringTokenAuthentication)),
    path("sync-header/", view(WhoAmI, HeaderAuthentication)),
    path("async-header/", view(WhoAmI, AsyncHeaderAuthentication)),
    path("decorated/", view(WhoAmI, DecoratedAsyncAuthentication)),
    path(
        "session-first/",
        view(WhoAmI, authentication.SessionAuthentication, authentication.TokenAuthentication),
    ),
    path(
        "token-first/",
        view(WhoAmI, authentication.TokenAuthentication, authentication.SessionAuthentication),
    ),
    path("lazy/", view(LazyView, authentication.TokenAuthentication)),
    path(
        "token-async-permission/",
        WhoAmI.as_view(
            authentication_classes=[authentication.TokenAuthentication],
            permission_classes=[IsAuthenticatedAsync],
        ),
    ),
    path(
        "drf/",
        DRFWhoAmI.as_view(
            authentication_classes=[
                authentication.TokenAuthentication,
                authentication.BasicAuthentication,
                authentication.SessionAuthentication,
            ]
        ),
    ),
]


def authz(value: str) -> dict[str, str]:
    return {"Authorization": value}


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@override_settings(ROOT_URLCONF=__name__, PASSWORD_HASHERS=FAST_HASHER)
class AuthenticationTestCase(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.alice = User.objects.create_user("alice", password="wonderland")
        cls.token = Token.objects.create(user=cls.alice)
        cls.inactive = User.objects.create_user("bob", password="builder", is_active=False)
        cls.inactive_token = Token.objects.create(user=cls.inactive)
        cls.expired = User.objects.create_user("expired", password="x")
        cls.expired_token = Token.objects.create(user=cls.expired)

    def setUp(self) -> None:
        # A sync ORM call on the loop must fail these tests, not be tolerated.
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ


class TestTokenAuthentication(AuthenticationTestCase):
    async def test_valid_token_authenticates_the_tokens_user(self) -> None:
        response = await self.async_client.get("/token/", headers=authz(f"Token {self.token.key}"))
        assert response.status_code == 200
        assert response.json() == {
            "user": "alice",
            "auth": "Token",
            "authenticator": "TokenAuthentication",
        }

    async def test_token_lookup_is_the_only_hop_and_it_is_djangos_own(self) -> None:
        with ThreadHops() as hops:
            response = await self.async_client.get(
                "/token/", headers=authz(f"Token {self.token.key}")
            )
        assert response.status_code == 200
        # `aget()` is Django's async ORM, which itself runs the query in one hop; daf_drf adds
        # none (the authenticator, IsAuthenticated and the exception handler run on the loop).
        assert hops.names(inside=True) == ["QuerySet.get"]

    async def test_token_with_an_async_permission_adds_no_hop_of_daf_drfs(self) -> None:
        with ThreadHops() as hops:
            response = await self.async_client.get(
                "/token-async-permission/", headers=authz(f"Token {self.token.key}")
            )
        assert response.status_code == 200
        assert hops.names(inside=True) == ["QuerySet.get"]  # Django's aget(), nothing else

    async def test_anonymous_request_with_token_authentication_makes_no_hop(self) -> None:
        with ThreadHops() as hops:
            response = await self.async_client.get("/token-async-permission/")
        assert response.status_code == 401
        assert hops.names(inside=True) == []

    async def test_unknown_token_is_401_invalid_token(self) -> None:
        response = await self.async_client.get("/token/", headers=authz("Token nope"))
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}
        assert response["WWW-Authenticate"] == "Token"

    async def test_inactive_users_token_is_401_user_inactive(self) -> None:
        response = await self.async_client.get(
            "/token/", headers=authz(f"Token {self.inactive_token.key}")
        )
        assert response.status_code == 401
        assert response.json() == {"detail": "User inactive or deleted."}

    async def test_keyword_without_key_is_401_no_credentials(self) -> None:
        response = await self.async_client.get("/token/", headers=authz("Token"))
        assert response.json() == {"detail": "Invalid token header. No credentials provided."}

    async def test_key_with_spaces_is_401(self) -> None:
        response = await self.async_client.get("/token/", headers=authz("Token a b"))
        assert response.json() == {
            "detail": "Invalid token header. Token string should not contain spaces."
        }

    async def test_other_scheme_is_not_authenticated(self) -> None:
        response = await self.async_client.get("/token/", headers=authz("Bearer abc"))
        assert response.status_code == 401
        assert response.json() == {"detail": "Authentication credentials were not provided."}

    async def test_sync_override_of_authenticate_credentials_is_honoured(self) -> None:
        response = await self.async_client.get(
            "/expiring/", headers=authz(f"Token {self.expired_token.key}")
        )
        assert response.status_code == 401
        assert response.json() == {"detail": "Token has expired."}

    async def test_subclass_with_sync_override_still_authenticates(self) -> None:
        response = await self.async_client.get(
            "/expiring/", headers=authz(f"Token {self.token.key}")
        )
        assert response.json()["user"] == "alice"


class TestBasicAuthentication(AuthenticationTestCase):
    async def test_valid_credentials_authenticate(self) -> None:
        response = await self.async_client.get(
            "/basic/", headers=authz(basic("alice", "wonderland"))
        )
        assert response.json() == {
            "user": "alice",
            "auth": "NoneType",
            "authenticator": "BasicAuthentication",
        }

    async def test_wrong_password_is_401_with_basic_realm(self) -> None:
        response = await self.async_client.get("/basic/", headers=authz(basic("alice", "x")))
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid username/password."}
        assert response["WWW-Authenticate"] == 'Basic realm="api"'

    async def test_inactive_user_is_rejected(self) -> None:
        response = await self.async_client.get("/basic/", headers=authz(basic("bob", "builder")))
        assert response.status_code == 401

    async def test_undecodable_credentials_are_401(self) -> None:
        response = await self.async_client.get("/basic/", headers=authz("Basic !!!"))
        assert response.json() == {
            "detail": "Invalid basic header. Credentials not correctly base64 encoded."
        }

    async def test_scheme_without_credentials_is_401(self) -> None:
        response = await self.async_client.get("/basic/", headers=authz("Basic"))
        assert response.json() == {"detail": "Invalid basic header. No credentials provided."}


class TestSessionAuthentication(AuthenticationTestCase):
    async def test_logged_in_session_authenticates(self) -> None:
        await self.async_client.aforce_login(self.alice)
        response = await self.async_client.get("/session/")
        assert response.json() == {
            "user": "alice",
            "auth": "NoneType",
            "authenticator": "SessionAuthentication",
        }

    async def test_anonymous_session_is_403_without_www_authenticate(self) -> None:
        response = await self.async_client.get("/session/")
        assert response.status_code == 403
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        assert "WWW-Authenticate" not in response

    async def test_session_of_a_deactivated_user_is_not_authenticated(self) -> None:
        user = await User.objects.acreate_user("carol", password="x")
        await self.async_client.aforce_login(user)
        user.is_active = False
        await user.asave()
        response = await self.async_client.get("/session/")
        assert response.status_code == 403

    async def test_session_user_loads_through_djangos_async_api_only(self) -> None:
        await self.async_client.aforce_login(self.alice)
        with ThreadHops() as hops:
            response = await self.async_client.get("/session/")
        assert response.status_code == 200
        # The session row and the user row, each read by Django's async ORM (`aget`).
        assert hops.names(inside=True) == ["QuerySet.get", "QuerySet.get"]


class TestOtherAuthenticators(AuthenticationTestCase):
    async def test_sync_authenticator_runs_in_exactly_one_hop(self) -> None:
        with ThreadHops() as hops:
            response = await self.async_client.get("/sync-header/", headers={"X-User": "alice"})
        assert response.json()["auth"] == "str"
        assert hops.names(inside=True) == ["HeaderAuthentication.authenticate"]

    async def test_async_def_authenticate_is_awaited_on_the_loop(self) -> None:
        response = await self.async_client.get("/async-header/", headers={"X-User": "alice"})
        assert response.json() == {
            "user": "alice",
            "auth": "str",
            "authenticator": "AsyncHeaderAuthentication",
        }

    async def test_decorated_async_authenticate_is_awaited(self) -> None:
        response = await self.async_client.get("/decorated/", headers={"X-User": "alice"})
        assert response.status_code == 200
        assert response.json()["user"] == "alice"

    async def test_decorated_async_authenticate_returning_none_is_anonymous(self) -> None:
        response = await self.async_client.get("/decorated/")
        assert response.status_code == 403


class TestUnauthenticatedStatus(AuthenticationTestCase):
    async def test_first_authenticator_with_header_gives_401(self) -> None:
        response = await self.async_client.get("/token-first/")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"

    async def test_first_authenticator_without_header_gives_403(self) -> None:
        response = await self.async_client.get("/session-first/")
        assert response.status_code == 403
        assert "WWW-Authenticate" not in response

    async def test_second_authenticator_still_authenticates(self) -> None:
        response = await self.async_client.get(
            "/session-first/", headers=authz(f"Token {self.token.key}")
        )
        assert response.json()["authenticator"] == "TokenAuthentication"


class TestRequestUser(AuthenticationTestCase):
    async def test_lazy_idiom_reading_request_user_on_the_loop_explains_auser(self) -> None:
        with pytest.raises(UserNotLoaded, match=r"await request\.auser\(\)"):
            await self.async_client.get("/lazy/", headers=authz(f"Token {self.token.key}"))

    async def test_lazy_idiom_with_auser_and_aauth_authenticates(self) -> None:
        response = await self.async_client.get(
            "/lazy/?await=1", headers=authz(f"Token {self.token.key}")
        )
        assert response.json() == {"user": "alice", "auth": "Token"}


class TestSyncAuthenticateInDRFViews(AuthenticationTestCase):
    """The same classes keep working in views still on DRF (sync `authenticate`)."""

    def test_token_in_a_drf_view(self) -> None:
        response = self.client.get("/drf/", headers=authz(f"Token {self.token.key}"))
        assert response.json()["authenticator"] == "TokenAuthentication"

    def test_basic_in_a_drf_view(self) -> None:
        response = self.client.get("/drf/", headers=authz(basic("alice", "wonderland")))
        assert response.json()["authenticator"] == "BasicAuthentication"

    def test_session_in_a_drf_view(self) -> None:
        self.client.force_login(self.alice)
        response = self.client.get("/drf/")
        assert response.json()["authenticator"] == "SessionAuthentication"

    def test_invalid_token_in_a_drf_view(self) -> None:
        response = self.client.get("/drf/", headers=authz("Token nope"))
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}


class TestAauthenticateDirectly(AuthenticationTestCase):
    async def test_sync_authenticate_is_used_in_a_worker_thread(self) -> None:
        from rest_framework.test import APIRequestFactory

        from daf_drf.request import Request

        factory = APIRequestFactory()
        raw = factory.get("/", headers=authz(f"Token {self.token.key}"))
        request = Request(raw, authenticators=[authentication.TokenAuthentication()])
        user = await sync_to_async(lambda: request.user)()
        assert user.username == "alice"


# --- end to end through Django's ASGIHandler ------------------------------------------------


class SyncQueriesUser(BasePermission):
    """A project's sync permission that queries the ORM (runs in a worker thread)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return User.objects.filter(pk=request.user.pk, is_active=True).exists()


class AsyncQueriesUser(BasePermission):
    async def has_permission(self, request: Any, view: Any) -> bool:
        return await User.objects.filter(pk=request.user.pk, is_active=True).aexists()


ALL_AUTHENTICATORS = [
    authentication.SessionAuthentication,
    authentication.TokenAuthentication,
    authentication.BasicAuthentication,
]
PERMISSIONS: dict[str, list[Any]] = {
    "sync": [SyncQueriesUser],
    "async": [AsyncQueriesUser],
    "pure": [IsAuthenticated],
    "none": [AllowAny],
}
asgi_urls = types.ModuleType("tests.test_authentication_asgi_urls")
asgi_urls.urlpatterns = [  # type: ignore[attr-defined]
    path(
        f"{name}/",
        WhoAmI.as_view(authentication_classes=ALL_AUTHENTICATORS, permission_classes=permissions),
    )
    for name, permissions in PERMISSIONS.items()
]


async def asgi_call(
    method: str, path_: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, bytes]:
    """One request through Django's real `ASGIHandler`, as a server would send it."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path_,
        "raw_path": path_.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    pending = [{"type": "http.request", "body": body, "more_body": False}]
    done = asyncio.Event()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return pending.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await ASGIHandler()(scope, receive, send)
    done.set()
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@override_settings(
    ROOT_URLCONF=asgi_urls,
    PASSWORD_HASHERS=FAST_HASHER,
)
class TestThroughDjangosASGIHandler(TransactionTestCase):
    """
    No `SynchronousOnlyOperation` anywhere: Django's real ASGI handler (its per-request
    thread-sensitive context, DB sessions), `DJANGO_ALLOW_ASYNC_UNSAFE` unset. Any sync ORM
    call on the loop would turn a request into a 500.
    """

    def setUp(self) -> None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
        self.alice = User.objects.create_user("alice", password="wonderland")
        self.token = Token.objects.create(user=self.alice)
        self.client.force_login(self.alice)
        session = self.client.cookies["sessionid"].value
        self.credentials = {
            "anonymous": {},
            "session": {"Cookie": f"sessionid={session}"},
            "token": {"Authorization": f"Token {self.token.key}"},
            "basic": {"Authorization": basic("alice", "wonderland")},
        }

    async def test_every_authentication_with_every_kind_of_permission(self) -> None:
        for (login, headers), name in itertools.product(self.credentials.items(), PERMISSIONS):
            with self.subTest(login=login, permissions=name):
                status, body = await asgi_call("GET", f"/{name}/", headers)
                if login == "anonymous" and name != "none":
                    assert status == 403, body
                else:
                    assert status == 200, body
                    user = json.loads(body)["user"]
                    assert user == (None if login == "anonymous" else "alice")

    async def test_session_post_with_csrf_secret_in_the_db_session(self) -> None:
        from django.contrib.sessions.backends.db import SessionStore
        from django.middleware.csrf import CSRF_SESSION_KEY

        key = self.client.cookies["sessionid"].value
        store = SessionStore(session_key=key)
        await store.aset(CSRF_SESSION_KEY, "c" * 32)
        await store.asave()
        headers = {**self.credentials["session"], "X-CSRFToken": "c" * 32}
        with override_settings(CSRF_USE_SESSIONS=True):
            ok, _ = await asgi_call("POST", "/async/", headers)
            denied, body = await asgi_call("POST", "/async/", self.credentials["session"])
        assert ok == 200
        assert denied == 403
        assert json.loads(body) == {"detail": "CSRF Failed: CSRF token missing."}


def test_public_names_are_pinned() -> None:
    assert sorted(authentication.__all__) == [
        "BaseAuthentication",
        "BasicAuthentication",
        "CSRFCheck",
        "RemoteUserAuthentication",
        "SessionAuthentication",
        "TokenAuthentication",
        "clear_token_cache",
        "get_authorization_header",
    ]
    for name in ("BaseAuthentication", "CSRFCheck", "RemoteUserAuthentication"):
        assert getattr(authentication, name) is getattr(drf_authentication, name)


def test_sync_authenticate_is_drfs_own() -> None:
    for name in ("SessionAuthentication", "TokenAuthentication", "BasicAuthentication"):
        ours, drfs = getattr(authentication, name), getattr(drf_authentication, name)
        assert issubclass(ours, drfs)
        assert ours.authenticate is drfs.authenticate
        assert ours.authenticate_header is drfs.authenticate_header
