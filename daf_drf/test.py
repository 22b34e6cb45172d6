"""
Test helpers for daf_drf views: DRF's test API, async.

`AsyncAPIClient` and `AsyncAPIRequestFactory` are DRF's `APIClient` and `APIRequestFactory`
built on Django's `AsyncClient` and `AsyncRequestFactory`, so requests go through Django's
async request path (an `ASGIRequest`, `get_response_async`, async middleware):

    from daf_drf.test import APITestCase

    class OrderTests(APITestCase):
        async def test_create(self):
            self.async_client.force_authenticate(user=self.user)
            response = await self.async_client.post("/orders/", {"sku": "A1"}, format="json")
            assert response.status_code == 201

They keep DRF's arguments: `format=` (the body is rendered by
`TEST_REQUEST_RENDERER_CLASSES`), `content_type=`, `force_authenticate(user, token)`,
`credentials(**kwargs)` and `follow=True`. Extra keyword arguments use DRF's WSGI spelling
(`HTTP_AUTHORIZATION="Token abc"`, `CONTENT_TYPE`, `REMOTE_ADDR`, `QUERY_STRING`) and are
translated into real ASGI headers and scope keys; Django's own async factory would send
`HTTP_AUTHORIZATION` as a header literally named `http-authorization`.

DRF's sync test classes are re-exported, so `from daf_drf.test import APIClient` works too,
and so do DRF-style tests: a daf_drf view called from sync code (`view(factory.get("/"))`)
returns its response, as DRF's does; `APIClient`, `RequestsClient` and `APITestCase.client`
reach daf_drf views through Django's WSGI handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from http.cookies import SimpleCookie
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.test.client import AsyncClient as DjangoAsyncClient
from django.test.client import AsyncClientHandler, FakePayload
from django.test.client import AsyncRequestFactory as DjangoAsyncRequestFactory
from django.utils.encoding import force_bytes
from rest_framework import test as drf_test
from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings
from rest_framework.test import (
    APIClient,
    APIRequestFactory,
    RequestsClient,
    URLPatternsTestCase,
    force_authenticate,
)

from daf_drf.hooks import _loop_running_here

__all__ = [
    "APIClient",
    "APILiveServerTestCase",
    "APIRequestFactory",
    "APISimpleTestCase",
    "APITestCase",
    "APITransactionTestCase",
    "AsyncAPIClient",
    "AsyncAPIRequestFactory",
    "ForceAuthAsyncClientHandler",
    "RequestsClient",
    "URLPatternsTestCase",
    "asgi_header_name",
    "force_authenticate",
]

# WSGI environ keys that map onto the ASGI scope rather than onto a header.
_SCOPE_KEYS = frozenset({"REMOTE_ADDR", "SERVER_NAME", "SERVER_PORT", "wsgi.url_scheme"})


def asgi_header_name(key: str) -> str | None:
    """
    Return the ASGI header name for a keyword of DRF's WSGI-style `**extra`, or `None`.

    `HTTP_X_API_KEY` → `x-api-key`, `CONTENT_TYPE` → `content-type`, `CONTENT_LENGTH` →
    `content-length`; a name already spelled like a header (`x-api-key`, `Accept`) is kept.
    """
    if key.startswith("HTTP_"):
        return key[5:].lower().replace("_", "-")
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key.lower().replace("_", "-")
    if key in _SCOPE_KEYS or key == "QUERY_STRING" or key.isupper():
        return None
    return key.lower()


class AsyncAPIRequestFactory(DjangoAsyncRequestFactory):
    """
    DRF's `APIRequestFactory`, building `ASGIRequest` objects.

    Usage:

        factory = AsyncAPIRequestFactory()
        request = factory.post("/orders/", {"sku": "A1"}, format="json",
                               HTTP_AUTHORIZATION="Token abc")
        response = await OrderList.as_view()(request)

    WSGI-style keywords are translated: `HTTP_*` become headers, `REMOTE_ADDR`,
    `SERVER_NAME`, `SERVER_PORT` and `wsgi.url_scheme` set the scope, `QUERY_STRING` the
    query. Any other upper-case key has no ASGI equivalent and raises `TypeError`.
    """

    renderer_classes_list = api_settings.TEST_REQUEST_RENDERER_CLASSES
    default_format = api_settings.TEST_REQUEST_DEFAULT_FORMAT

    def __init__(self, enforce_csrf_checks: bool = False, **defaults: Any) -> None:
        self.enforce_csrf_checks = enforce_csrf_checks
        self.renderer_classes: dict[str, type[BaseRenderer]] = {
            str(cls.format): cls for cls in cast(list[Any], self.renderer_classes_list)
        }
        super().__init__(**defaults)

    def _encode_data(  # type: ignore[override]
        self, data: Any, format: str | None = None, content_type: str | None = None
    ) -> tuple[bytes, str | None]:
        """Encode `data` as DRF does: raw bytes for `content_type`, a renderer for `format`."""
        if data is None:
            return b"", content_type
        if format is not None and content_type is not None:
            raise TypeError("You may not set both `format` and `content_type`.")
        if content_type:
            encoded = self._encode_json(data, content_type)  # type: ignore[attr-defined]
            return force_bytes(encoded, settings.DEFAULT_CHARSET), content_type
        format = format or self.default_format
        if format not in self.renderer_classes:
            available = ", ".join(f"'{name}'" for name in self.renderer_classes)
            raise ValueError(
                f"Invalid format '{format}'. Available formats are {available}. "
                "Set TEST_REQUEST_RENDERER_CLASSES to enable extra request formats."
            )
        renderer = self.renderer_classes[format]()
        rendered = renderer.render(data)
        media_type = renderer.media_type
        if renderer.charset:
            media_type = f"{media_type}; charset={renderer.charset}"
        if isinstance(rendered, str):
            rendered = rendered.encode(renderer.charset or "utf-8")
        return rendered, media_type

    def get(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        if data:
            extra["QUERY_STRING"] = urlencode(data, doseq=True)
        extra.pop("content_type", None)
        return self.generic("GET", path, **extra)

    def head(self, path: str, data: Any = None, **extra: Any) -> Any:  # type: ignore[override]
        if data:
            extra["QUERY_STRING"] = urlencode(data, doseq=True)
        extra.pop("content_type", None)
        return self.generic("HEAD", path, **extra)

    def _with_body(
        self,
        method: str,
        path: str,
        data: Any,
        format: str | None,
        content_type: str | None,
        extra: dict[str, Any],
    ) -> Any:
        body, content_type = self._encode_data(data, format, content_type)
        return self.generic(method, path, body, content_type, **extra)

    def post(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> Any:
        return self._with_body("POST", path, data, format, content_type, extra)

    def put(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> Any:
        return self._with_body("PUT", path, data, format, content_type, extra)

    def patch(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> Any:
        return self._with_body("PATCH", path, data, format, content_type, extra)

    def delete(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> Any:
        return self._with_body("DELETE", path, data, format, content_type, extra)

    def options(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> Any:
        return self._with_body("OPTIONS", path, data, format, content_type, extra)

    def generic(  # type: ignore[override]
        self,
        method: str,
        path: str,
        data: Any = b"",
        content_type: str | None = None,
        secure: bool = False,
        *,
        headers: Mapping[str, str] | None = None,
        query_params: Mapping[str, Any] | None = None,
        **extra: Any,
    ) -> Any:
        """Build the ASGI scope for one request and hand it to `request()`."""
        parsed = urlsplit(str(path))
        body = force_bytes(data, settings.DEFAULT_CHARSET)
        scope: dict[str, Any] = {
            "method": method.upper(),
            "path": self._get_path(parsed),  # type: ignore[attr-defined]
            "server": ("127.0.0.1", "443" if secure else "80"),
            "scheme": "https" if secure else "http",
            "query_string": parsed.query,
        }
        wsgi = {**self.defaults, **extra}
        if content_type is not None and "CONTENT_TYPE" not in wsgi:
            wsgi["CONTENT_TYPE"] = str(content_type)
        if body:
            wsgi["CONTENT_LENGTH"] = str(len(body))
            scope["_body_file"] = FakePayload(body)
        found: dict[str, str] = {"host": "testserver"}
        for key, value in wsgi.items():
            name = asgi_header_name(key)
            if name is not None:
                found[name] = str(value)
            elif key == "QUERY_STRING":
                scope["query_string"] = value
            elif key == "REMOTE_ADDR":
                scope["client"] = (value, 0)
            elif key in ("SERVER_NAME", "SERVER_PORT"):
                server = list(scope["server"])
                server[key == "SERVER_PORT"] = str(value)
                scope["server"] = tuple(server)
            elif key == "wsgi.url_scheme":
                scope["scheme"] = value
            else:
                raise TypeError(
                    f"{type(self).__name__}.generic() cannot send {key!r}: it is neither an "
                    "HTTP_* header nor a key with an ASGI equivalent (CONTENT_TYPE, "
                    "REMOTE_ADDR, SERVER_NAME, SERVER_PORT, QUERY_STRING)."
                )
        for name, value in (headers or {}).items():
            found[name.lower()] = str(value)
        if query_params:
            scope["query_string"] = urlencode(query_params, doseq=True)
        scope["headers"] = [(k.encode("ascii"), v.encode("latin1")) for k, v in found.items()]
        return self.request(**scope)

    def _base_scope(self, **request: Any) -> dict[str, Any]:
        # Django spreads `self.defaults` (WSGI-style keys) into the scope; `generic` has
        # already translated them, so keep them out.
        defaults, self.defaults = self.defaults, {}
        try:
            return super()._base_scope(**request)  # type: ignore[misc,no-any-return]
        finally:
            self.defaults = defaults

    def request(self, **request: Any) -> Any:
        built = super().request(**request)
        built._dont_enforce_csrf_checks = not self.enforce_csrf_checks  # type: ignore[attr-defined]
        return built


class ForceAuthAsyncClientHandler(AsyncClientHandler):
    """Django's async client handler, forcing DRF authentication on every request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._force_user: Any = None
        self._force_token: Any = None
        super().__init__(*args, **kwargs)

    async def get_response_async(self, request: Any) -> Any:
        # The simplest place to patch the request before the view builds DRF's `Request`,
        # which reads `_force_auth_user` / `_force_auth_token`.
        force_authenticate(request, self._force_user, self._force_token)
        return await super().get_response_async(request)


class AsyncAPIClient(AsyncAPIRequestFactory, DjangoAsyncClient):
    """
    DRF's `APIClient` for async tests, through Django's async request path.

    Usage:

        client = AsyncAPIClient()
        client.credentials(HTTP_AUTHORIZATION="Token abc")
        response = await client.get("/orders/", follow=True)
        client.force_authenticate(user=user)
        response = await client.post("/orders/", {"sku": "A1"}, format="json")

    Every request method is a coroutine; `follow=True` follows redirects.
    """

    def __init__(self, enforce_csrf_checks: bool = False, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.handler: ForceAuthAsyncClientHandler = ForceAuthAsyncClientHandler(enforce_csrf_checks)
        self._credentials: dict[str, Any] = {}

    def credentials(self, **kwargs: Any) -> None:
        """Set headers (`HTTP_AUTHORIZATION="Token abc"`) sent with every later request."""
        self._credentials = kwargs

    def force_authenticate(self, user: Any = None, token: Any = None) -> None:
        """Authenticate every later request as `user` / `token`; `None, None` logs out."""
        self.handler._force_user = user
        self.handler._force_token = token
        if user is None and token is None:
            self.logout()

    def logout(self) -> None:
        """
        Forget credentials, forced authentication and the session.

        On the event loop the session cookie is dropped without touching the session store
        (which would need the ORM); `await client.alogout()` also flushes it server-side.
        """
        self._credentials = {}
        self.handler._force_user = None
        self.handler._force_token = None
        if settings.SESSION_COOKIE_NAME not in self.cookies:
            return
        if _loop_running_here():
            self.cookies = SimpleCookie()
        else:
            super().logout()

    async def alogout(self) -> None:
        """`logout()`, flushing the session server-side."""
        self._credentials = {}
        self.handler._force_user = None
        self.handler._force_token = None
        if settings.SESSION_COOKIE_NAME in self.cookies:
            await super().alogout()

    async def request(self, **request: Any) -> Any:  # type: ignore[override]
        # Skip the factory's `request()`: CSRF is the handler's business here.
        response = await DjangoAsyncClient.request(self, **request)
        # Django's redirect following reads the WSGI names of the original request.
        response.request = {
            **response.request,
            "PATH_INFO": request["path"],
            "REQUEST_METHOD": request["method"],
        }
        return response

    def generic(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        # Credentials win over per-request keywords, as in DRF's APIClient.
        kwargs.update(self._credentials)
        return super().generic(*args, **kwargs)

    async def _follow(self, response: Any, follow: bool, **kwargs: Any) -> Any:
        if follow:
            response = await self._ahandle_redirects(response, **kwargs)  # type: ignore[attr-defined]
        return response

    async def get(  # type: ignore[override]
        self, path: str, data: Any = None, follow: bool = False, **extra: Any
    ) -> Any:
        response = await super().get(path, data=data, **extra)
        return await self._follow(response, follow, data=data, **extra)

    async def head(  # type: ignore[override]
        self, path: str, data: Any = None, follow: bool = False, **extra: Any
    ) -> Any:
        response = await super().head(path, data=data, **extra)
        return await self._follow(response, follow, data=data, **extra)

    async def _abody(
        self,
        method: str,
        path: str,
        data: Any,
        format: str | None,
        content_type: str | None,
        follow: bool,
        extra: dict[str, Any],
    ) -> Any:
        response = await self._with_body(method, path, data, format, content_type, dict(extra))
        if not follow:
            return response
        # A 307/308 repeats the request with the same (already encoded) body.
        body, media_type = self._encode_data(data, format, content_type)
        return await self._follow(
            response, True, data=body or None, content_type=media_type, **extra
        )

    async def post(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> Any:
        return await self._abody("POST", path, data, format, content_type, follow, extra)

    async def put(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> Any:
        return await self._abody("PUT", path, data, format, content_type, follow, extra)

    async def patch(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> Any:
        return await self._abody("PATCH", path, data, format, content_type, follow, extra)

    async def delete(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> Any:
        return await self._abody("DELETE", path, data, format, content_type, follow, extra)

    async def options(  # type: ignore[override]
        self,
        path: str,
        data: Any = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> Any:
        return await self._abody("OPTIONS", path, data, format, content_type, follow, extra)


class APITestCase(drf_test.APITestCase):
    """DRF's `APITestCase`; `self.async_client` is an `AsyncAPIClient`."""

    async_client_class = AsyncAPIClient


class APITransactionTestCase(drf_test.APITransactionTestCase):
    """DRF's `APITransactionTestCase`; `self.async_client` is an `AsyncAPIClient`."""

    async_client_class = AsyncAPIClient


class APISimpleTestCase(drf_test.APISimpleTestCase):
    """DRF's `APISimpleTestCase`; `self.async_client` is an `AsyncAPIClient`."""

    async_client_class = AsyncAPIClient


class APILiveServerTestCase(drf_test.APILiveServerTestCase):
    """DRF's `APILiveServerTestCase`; `self.async_client` is an `AsyncAPIClient`."""

    async_client_class = AsyncAPIClient
