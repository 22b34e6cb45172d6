"""`daf_drf.test`: DRF's test-client API on Django's async request path."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponseRedirect
from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import path
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from daf_drf import test as daf_test
from daf_drf.decorators import api_view
from daf_drf.test import AsyncAPIClient, AsyncAPIRequestFactory, force_authenticate
from daf_drf.views import APIView


class Echo(APIView):
    """Answers what the request looked like to the view."""

    authentication_classes: list[Any] = []

    async def _echo(self, request: Any) -> Response:
        return Response(
            {
                "method": request.method,
                "content_type": request.content_type,
                "data": request.data,
                "query": request.query_params.dict(),
                "x_foo": request.headers.get("X-Foo"),
                "authorization": request.headers.get("Authorization"),
                "remote_addr": request.META.get("REMOTE_ADDR"),
                "server_name": request.META.get("SERVER_NAME"),
                "scheme": request.scheme,
            }
        )

    get = post = put = patch = delete = _echo


class WhoAmI(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    async def get(self, request: Any) -> Response:
        user = await request.auser()
        return Response({"username": user.username, "auth": str(request.auth)})


@api_view(["GET", "POST"])
async def moved(request: Any) -> HttpResponseRedirect:
    return HttpResponseRedirect("/echo/?from=moved")


@api_view(["POST"])
async def moved_temporarily(request: Any) -> HttpResponseRedirect:
    response = HttpResponseRedirect("/echo/")
    response.status_code = 307
    return response


urlpatterns = [
    path("echo/", Echo.as_view()),
    path("moved-307/", moved_temporarily),
    path("whoami/", WhoAmI.as_view()),
    path("moved/", moved),
]


def test_factory_builds_an_asgi_request() -> None:
    request = AsyncAPIRequestFactory().get("/echo/")
    assert isinstance(request, ASGIRequest)


def test_factory_translates_wsgi_style_header_keywords_into_asgi_headers() -> None:
    request = AsyncAPIRequestFactory().get(
        "/echo/", HTTP_X_FOO="bar", HTTP_AUTHORIZATION="Token abc"
    )
    assert request.headers["X-Foo"] == "bar"
    assert request.META["HTTP_AUTHORIZATION"] == "Token abc"
    assert "HTTP_HTTP_X_FOO" not in request.META


def test_factory_maps_scope_keywords_onto_the_scope() -> None:
    request = AsyncAPIRequestFactory().get(
        "/echo/",
        REMOTE_ADDR="10.1.2.3",
        SERVER_NAME="api.example",
        SERVER_PORT="8443",
    )
    assert request.META["REMOTE_ADDR"] == "10.1.2.3"
    assert request.get_host() == "testserver"
    assert request.META["SERVER_NAME"] == "api.example"
    assert request.META["SERVER_PORT"] == "8443"


def test_factory_rejects_an_environ_key_without_asgi_equivalent() -> None:
    with pytest.raises(TypeError, match="REMOTE_USER"):
        AsyncAPIRequestFactory().get("/echo/", REMOTE_USER="alice")


def test_factory_format_json_renders_the_body_with_drfs_json_renderer() -> None:
    request = AsyncAPIRequestFactory().post("/echo/", {"a": [1, 2]}, format="json")
    assert request.content_type == "application/json"
    assert request.body == b'{"a":[1,2]}'


def test_factory_default_format_is_drfs_multipart() -> None:
    request = AsyncAPIRequestFactory().post("/echo/", {"a": "1"})
    assert request.content_type == "multipart/form-data"
    assert request.POST["a"] == "1"


def test_factory_content_type_sends_data_as_raw_bytes() -> None:
    request = AsyncAPIRequestFactory().put("/echo/", "a=1&b=2", content_type="text/plain")
    assert request.content_type == "text/plain"
    assert request.body == b"a=1&b=2"


def test_factory_refuses_format_and_content_type_together() -> None:
    with pytest.raises(TypeError, match="both `format` and `content_type`"):
        AsyncAPIRequestFactory().post("/echo/", {}, format="json", content_type="text/plain")


def test_factory_refuses_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="Invalid format 'yaml'"):
        AsyncAPIRequestFactory().post("/echo/", {}, format="yaml")


def test_factory_get_data_becomes_the_query_string() -> None:
    request = AsyncAPIRequestFactory().get("/echo/", {"q": "x y", "n": [1, 2]})
    assert request.GET.getlist("n") == ["1", "2"]
    assert request.GET["q"] == "x y"


def test_factory_skips_csrf_checks_unless_asked() -> None:
    assert AsyncAPIRequestFactory().get("/")._dont_enforce_csrf_checks is True
    strict = AsyncAPIRequestFactory(enforce_csrf_checks=True)
    assert strict.get("/")._dont_enforce_csrf_checks is False


@pytest.mark.asyncio
async def test_factory_request_dispatches_to_a_daf_drf_view() -> None:
    request = AsyncAPIRequestFactory().patch("/echo/", {"n": 1}, format="json", HTTP_X_FOO="1")
    response = await Echo.as_view()(request)
    assert response.status_code == 200
    assert response.data["data"] == {"n": 1}
    assert response.data["x_foo"] == "1"


@pytest.mark.asyncio
async def test_factory_request_with_drfs_force_authenticate_reaches_the_view() -> None:
    request = AsyncAPIRequestFactory().get("/whoami/")
    force_authenticate(request, user=User(username="forced"), token="t")
    response = await WhoAmI.as_view()(request)
    assert response.status_code == 200
    assert response.data == {"username": "forced", "auth": "t"}


def test_drfs_sync_test_api_is_re_exported() -> None:
    from rest_framework import test as drf_test

    assert daf_test.APIClient is drf_test.APIClient
    assert daf_test.APIRequestFactory is drf_test.APIRequestFactory
    assert daf_test.force_authenticate is drf_test.force_authenticate
    assert issubclass(daf_test.APITestCase, drf_test.APITestCase)
    assert daf_test.APITestCase.async_client_class is AsyncAPIClient


@override_settings(ROOT_URLCONF=__name__)
class AsyncAPIClientTests(SimpleTestCase):
    async def test_each_method_reaches_the_view_with_its_body(self) -> None:
        client = AsyncAPIClient()
        for method in ("post", "put", "patch", "delete"):
            response = await getattr(client, method)("/echo/", {"k": method}, format="json")
            assert response.status_code == 200, method
            assert response.json()["method"] == method.upper()
            assert response.json()["data"] == {"k": method}

    async def test_get_with_data_sends_a_query_string(self) -> None:
        response = await AsyncAPIClient().get("/echo/", {"page": 2})
        assert response.json()["query"] == {"page": "2"}

    async def test_head_answers_without_a_body(self) -> None:
        response = await AsyncAPIClient().head("/echo/")
        assert response.status_code == 200
        assert response.content == b""

    async def test_http_star_keywords_arrive_as_headers(self) -> None:
        response = await AsyncAPIClient().get("/echo/", HTTP_X_FOO="bar")
        assert response.json()["x_foo"] == "bar"

    async def test_headers_argument_arrives_as_headers(self) -> None:
        response = await AsyncAPIClient().get("/echo/", headers={"X-Foo": "baz"})
        assert response.json()["x_foo"] == "baz"

    async def test_client_defaults_are_translated_too(self) -> None:
        client = AsyncAPIClient(HTTP_X_FOO="default", REMOTE_ADDR="10.9.9.9")
        data = (await client.get("/echo/")).json()
        assert data["x_foo"] == "default"
        assert data["remote_addr"] == "10.9.9.9"

    async def test_content_type_keyword_sends_raw_bytes(self) -> None:
        response = await AsyncAPIClient().post(
            "/echo/", '{"raw": true}', content_type="application/json"
        )
        assert response.json()["data"] == {"raw": True}

    async def test_credentials_are_sent_with_every_request_until_logout(self) -> None:
        client = AsyncAPIClient()
        client.credentials(HTTP_AUTHORIZATION="Token abc")
        assert (await client.get("/echo/")).json()["authorization"] == "Token abc"
        assert (await client.post("/echo/")).json()["authorization"] == "Token abc"
        client.logout()
        assert (await client.get("/echo/")).json()["authorization"] is None

    async def test_follow_follows_a_redirect_to_the_target(self) -> None:
        response = await AsyncAPIClient().get("/moved/", follow=True)
        assert response.status_code == 200
        assert response.redirect_chain == [("/echo/?from=moved", 302)]
        assert response.json()["query"] == {"from": "moved"}

    async def test_follow_after_post_switches_to_get_on_302(self) -> None:
        response = await AsyncAPIClient().post("/moved/", {"a": 1}, format="json", follow=True)
        assert response.json()["method"] == "GET"

    async def test_follow_repeats_method_and_body_on_307(self) -> None:
        response = await AsyncAPIClient().post("/moved-307/", {"a": 1}, format="json", follow=True)
        assert response.redirect_chain == [("/echo/", 307)]
        assert response.json()["method"] == "POST"
        assert response.json()["data"] == {"a": 1}

    async def test_without_follow_the_redirect_is_returned(self) -> None:
        response = await AsyncAPIClient().get("/moved/")
        assert response.status_code == 302
        assert response["Location"] == "/echo/?from=moved"


@override_settings(ROOT_URLCONF=__name__)
class AsyncAPIClientAuthenticationTests(TestCase):
    async def test_force_authenticate_authenticates_an_async_view(self) -> None:
        user = await User.objects.acreate(username="ada")
        client = AsyncAPIClient()
        client.force_authenticate(user=user, token="tok")
        response = await client.get("/whoami/")
        assert response.status_code == 200
        assert response.json() == {"username": "ada", "auth": "tok"}

    async def test_force_authenticate_with_none_logs_out(self) -> None:
        user = await User.objects.acreate(username="ada")
        client = AsyncAPIClient()
        client.force_authenticate(user=user)
        client.force_authenticate(None)
        response = await client.get("/whoami/")
        assert response.status_code == 401

    async def test_token_credentials_authenticate_through_the_real_authenticator(self) -> None:
        user = await User.objects.acreate(username="grace")
        token = await Token.objects.acreate(user=user)
        client = AsyncAPIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        response = await client.get("/whoami/")
        assert response.status_code == 200
        assert response.json()["username"] == "grace"

    async def test_alogout_flushes_the_session(self) -> None:
        user = await User.objects.acreate(username="lin")
        client = AsyncAPIClient()
        await client.aforce_login(user)
        assert "sessionid" in client.cookies
        await client.alogout()
        assert "sessionid" not in client.cookies
