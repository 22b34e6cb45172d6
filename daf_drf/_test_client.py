"""
`AsyncAPIClient`: DRF's `APIClient` on Django's `AsyncClient`.

Public through `daf_drf.test`.
"""

from __future__ import annotations

from collections.abc import Awaitable
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponseBase
from django.test.client import AsyncClient as DjangoAsyncClient
from django.test.client import AsyncClientHandler
from rest_framework.test import force_authenticate

from daf_drf._test_factory import AsyncAPIRequestFactory
from daf_drf.hooks import on_event_loop

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedASGIResponse as TestResponse
    from rest_framework.authtoken.models import Token

__all__ = ["AsyncAPIClient", "ForceAuthAsyncClientHandler"]


class ForceAuthAsyncClientHandler(AsyncClientHandler):
    """Django's async client handler, forcing DRF authentication on every request."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._force_user: AnonymousUser | AbstractBaseUser | None = None
        self._force_token: Token | None = None
        super().__init__(*args, **kwargs)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
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

    if TYPE_CHECKING:
        # Django's `AsyncClient` helper for `follow=True`, absent from django-stubs.
        async def _ahandle_redirects(
            self, response: TestResponse, **extra: Any
        ) -> TestResponse: ...

    def __init__(self, enforce_csrf_checks: bool = False, **defaults: Any) -> None:
        super().__init__(**defaults)
        self.handler: ForceAuthAsyncClientHandler = ForceAuthAsyncClientHandler(enforce_csrf_checks)
        self._credentials: dict[str, object] = {}

    def credentials(self, **kwargs: object) -> None:
        """Set headers (`HTTP_AUTHORIZATION="Token abc"`) sent with every later request."""
        self._credentials = kwargs

    def force_authenticate(
        self, user: AnonymousUser | AbstractBaseUser | None = None, token: Token | None = None
    ) -> None:
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
        if on_event_loop():
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

    async def request(self, **request: Any) -> TestResponse:  # type: ignore[override]
        # Skip the factory's `request()`: CSRF is the handler's business here.
        response = await DjangoAsyncClient.request(self, **request)
        # Django's redirect following reads the WSGI names of the original request.
        response.request = {
            **response.request,
            "PATH_INFO": request["path"],
            "REQUEST_METHOD": request["method"],
        }
        return response

    def generic(self, *args: Any, **kwargs: Any) -> Awaitable[TestResponse]:  # type: ignore[override]
        # Credentials win over per-request keywords, as in DRF's APIClient.
        kwargs.update(self._credentials)
        # The factory's methods return what `request()` returns: here, its coroutine.
        return cast("Awaitable[TestResponse]", super().generic(*args, **kwargs))

    async def _follow(self, response: TestResponse, follow: bool, **kwargs: Any) -> TestResponse:
        if follow:
            return await self._ahandle_redirects(response, **kwargs)
        return response

    async def get(  # type: ignore[override]
        self, path: str, data: Any = None, follow: bool = False, **extra: Any
    ) -> TestResponse:
        response = await cast("Awaitable[TestResponse]", super().get(path, data=data, **extra))
        return await self._follow(response, follow, data=data, **extra)

    async def head(  # type: ignore[override]
        self, path: str, data: Any = None, follow: bool = False, **extra: Any
    ) -> TestResponse:
        response = await cast("Awaitable[TestResponse]", super().head(path, data=data, **extra))
        return await self._follow(response, follow, data=data, **extra)

    async def _abody(
        self,
        method: str,
        path: str,
        data: object,
        format: str | None,
        content_type: str | None,
        follow: bool,
        extra: dict[str, Any],
    ) -> TestResponse:
        built = self._with_body(method, path, data, format, content_type, dict(extra))
        response = await cast("Awaitable[TestResponse]", built)
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
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> TestResponse:
        return await self._abody("POST", path, data, format, content_type, follow, extra)

    async def put(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> TestResponse:
        return await self._abody("PUT", path, data, format, content_type, follow, extra)

    async def patch(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> TestResponse:
        return await self._abody("PATCH", path, data, format, content_type, follow, extra)

    async def delete(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> TestResponse:
        return await self._abody("DELETE", path, data, format, content_type, follow, extra)

    async def options(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        follow: bool = False,
        **extra: Any,
    ) -> TestResponse:
        return await self._abody("OPTIONS", path, data, format, content_type, follow, extra)
