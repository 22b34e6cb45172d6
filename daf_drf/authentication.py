"""
Authentication for daf_drf views.

`SessionAuthentication`, `TokenAuthentication` and `BasicAuthentication` are DRF's classes with
an `aauthenticate` sibling that does its I/O on the event loop: the session user comes from
`await request._request.auser()`, the token from `Token.objects.aget(...)`; the password check
is Django's sync `authenticate()` in one thread hop (hashing is CPU work that would stall the
loop). Headers, error messages, `authenticate_header` and the
CSRF rule are DRF's own, and the sync `authenticate` is untouched, so one setting serves both
worlds:

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "daf_drf.authentication.SessionAuthentication",
            "daf_drf.authentication.TokenAuthentication",
        ],
    }

A subclass that overrides a sync method (`authenticate`, `authenticate_credentials`,
`enforce_csrf`) keeps its behaviour in daf_drf views: the override runs (in one thread hop,
since it may do I/O) instead of the async default, so an expiry check added to
`authenticate_credentials` can never be bypassed.

Any other authenticator works in a daf_drf view too: a sync `authenticate` (a project's own,
SimpleJWT's) runs in one thread hop, an `async def authenticate` or `aauthenticate` is awaited.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.middleware.csrf import CSRF_SESSION_KEY
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication as drf_authentication
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    CSRFCheck,
    RemoteUserAuthentication,
    get_authorization_header,
)
from rest_framework.request import Request

from daf_drf import _token_cache as token_cache
from daf_drf.hooks import call_hook, is_noop, overrides

__all__ = [
    "BaseAuthentication",
    "BasicAuthentication",
    "CSRFCheck",
    "RemoteUserAuthentication",
    "SessionAuthentication",
    "TokenAuthentication",
    "clear_token_cache",
    "get_authorization_header",
]

# DRF's `(user, auth)` pair: DRF types neither member (the user model is the project's).
UserAuth = tuple[Any, Any]

clear_token_cache = token_cache.clear

_DJANGO_AUTH_MIDDLEWARE = "django.contrib.auth.middleware"


def _split_credentials(request: Request, scheme: bytes, kind: str) -> bytes | None:
    """
    Return the credentials of an `Authorization: <scheme> <credentials>` header, `None` if the
    header is for another scheme, and raise DRF's `AuthenticationFailed` messages otherwise.
    `scheme` is lowercase, compared with the header's lowercased scheme as DRF compares them.
    """
    auth = get_authorization_header(request).split()
    if not auth or auth[0].lower() != scheme:
        return None
    if len(auth) == 1:
        if kind == "basic":
            raise exceptions.AuthenticationFailed(
                _("Invalid basic header. No credentials provided.")
            )
        raise exceptions.AuthenticationFailed(_("Invalid token header. No credentials provided."))
    if len(auth) > 2:
        if kind == "basic":
            raise exceptions.AuthenticationFailed(
                _("Invalid basic header. Credentials string should not contain spaces.")
            )
        raise exceptions.AuthenticationFailed(
            _("Invalid token header. Token string should not contain spaces.")
        )
    credentials: bytes = auth[1]
    return credentials


class SessionAuthentication(drf_authentication.SessionAuthentication):
    """
    DRF's session authentication, with the session read asynchronously.

    Usage: list it in `authentication_classes` or `DEFAULT_AUTHENTICATION_CLASSES`; it needs
    Django's `SessionMiddleware` and `AuthenticationMiddleware`, as DRF's does.

    Guarantees: the same user as DRF's class (`request._request.user`, loaded with Django's
    `auser()` when it has not been loaded yet), and DRF's CSRF rule: an authenticated request
    with an unsafe method and no valid CSRF token is a 403 "CSRF Failed: ..."; safe methods and
    anonymous requests are never checked. With `CSRF_USE_SESSIONS` the session is loaded
    asynchronously before the check, so the check itself never queries the session store.
    """

    async def aauthenticate(self, request: Request) -> UserAuth | None:
        """Return `(user, None)` for a logged-in active session user, else `None`."""
        if overrides(self, "authenticate", SessionAuthentication):
            overridden: UserAuth | None = await call_hook(self, self.authenticate, request)
            return overridden
        user = await self.aget_session_user(request)
        # Unauthenticated, CSRF validation not required
        if not user or not user.is_active:
            return None
        await self.aenforce_csrf(request)
        return (user, None)

    async def aget_session_user(self, request: Request) -> Any:
        """
        The user Django's `AuthenticationMiddleware` attached to the request, loaded on the loop.

        A user another middleware set (a plain user, or its own lazy object) is honoured, as DRF
        honours whatever `request._request.user` is; only that middleware's own lazy object,
        which may query, is evaluated in a thread.
        """
        django_request = request._request
        user = getattr(django_request, "user", None)
        if not isinstance(user, LazyObject):
            return user
        if user._wrapped is not empty:  # already loaded by someone
            return user._wrapped
        setup = getattr(user, "_setupfunc", None)
        auser = getattr(django_request, "auser", None)
        if auser is not None and getattr(setup, "__module__", None) == _DJANGO_AUTH_MIDDLEWARE:
            return await auser()

        def load() -> Any:
            user._setup()
            return user._wrapped

        return await sync_to_async(load)()

    async def aenforce_csrf(self, request: Request) -> None:
        """
        Run DRF's `enforce_csrf` without blocking I/O on the loop.

        An overridden `enforce_csrf` (for example one that does nothing, to exempt an API from
        CSRF) is honoured.
        """
        if overrides(self, "enforce_csrf", drf_authentication.SessionAuthentication):
            if is_noop(self.enforce_csrf):
                return
            await call_hook(self, self.enforce_csrf, request)
            return
        session = getattr(request._request, "session", None)
        if settings.CSRF_USE_SESSIONS and session is not None:
            # CSRFCheck reads the secret with the sync `session.get`; loading the session here
            # first means that read is served from memory.
            await session.aget(CSRF_SESSION_KEY)
        self.enforce_csrf(request)


class TokenAuthentication(drf_authentication.TokenAuthentication):
    """
    DRF's token authentication (`Authorization: Token <key>`), with the token read by
    `aget()`.

    Usage: as DRF's class; `keyword` and `model` work the same way. The token and its user are
    loaded in one query (`select_related("user")`), as DRF does.
    """

    async def aauthenticate(self, request: Request) -> UserAuth | None:
        """Return `(token.user, token)` for a valid token header, `None` for other schemes."""
        if overrides(self, "authenticate", TokenAuthentication):
            overridden: UserAuth | None = await call_hook(self, self.authenticate, request)
            return overridden
        raw = _split_credentials(request, self.keyword.lower().encode(), "token")
        if raw is None:
            return None
        try:
            key = raw.decode()
        except UnicodeError:
            msg = _("Invalid token header. Token string should not contain invalid characters.")
            raise exceptions.AuthenticationFailed(msg) from None
        return await self.aauthenticate_credentials(key)

    async def aauthenticate_credentials(self, key: str) -> UserAuth:
        """The async twin of `authenticate_credentials`; a sync override of it wins."""
        if overrides(self, "authenticate_credentials", TokenAuthentication):
            overridden: UserAuth = await call_hook(self, self.authenticate_credentials, key)
            return overridden
        seconds = token_cache.timeout()
        if seconds and (cached := token_cache.get(key)) is not None:
            return cached
        model: Any = self.get_model()
        try:
            token = await model.objects.select_related("user").aget(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if seconds:
            token_cache.put(key, token.user, token, seconds)
        return (token.user, token)

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """DRF's method (sync views), served from the token cache when it is on."""
        seconds = token_cache.timeout()
        if seconds and (cached := token_cache.get(key)) is not None:
            return cached
        user, token = super().authenticate_credentials(key)
        if seconds:
            token_cache.put(key, user, token, seconds)
        return (user, token)


class BasicAuthentication(drf_authentication.BasicAuthentication):
    """
    DRF's HTTP Basic authentication.

    Usage: as DRF's class (`www_authenticate_realm` included). The credentials are checked by
    Django's sync `authenticate()` in one thread hop: verifying a password hash takes about
    0.2 s of CPU with the default PBKDF2 hasher, and Django's `ModelBackend.aauthenticate`
    would spend it on the event loop, stalling every other request. `hashlib` releases the
    GIL while hashing, so the loop keeps serving. As DRF's documentation says, Basic
    authentication is for testing; use tokens or sessions in production.
    """

    async def aauthenticate(self, request: Request) -> UserAuth | None:
        """Return `(user, None)` for valid Basic credentials, `None` for other schemes."""
        if overrides(self, "authenticate", BasicAuthentication):
            overridden: UserAuth | None = await call_hook(self, self.authenticate, request)
            return overridden
        raw = _split_credentials(request, b"basic", "basic")
        if raw is None:
            return None
        try:
            try:
                decoded = base64.b64decode(raw).decode("utf-8")
            except UnicodeDecodeError:
                decoded = base64.b64decode(raw).decode("latin-1")
            userid, password = decoded.split(":", 1)
        except (TypeError, ValueError, UnicodeDecodeError, binascii.Error):
            msg = _("Invalid basic header. Credentials not correctly base64 encoded.")
            raise exceptions.AuthenticationFailed(msg) from None
        return await self.aauthenticate_credentials(userid, password, request)

    async def aauthenticate_credentials(
        self, userid: str, password: str, request: Request | None = None
    ) -> UserAuth:
        """The async twin of `authenticate_credentials`; a sync override of it wins."""
        if overrides(self, "authenticate_credentials", BasicAuthentication):
            overridden: UserAuth = await call_hook(
                self, self.authenticate_credentials, userid, password, request
            )
            return overridden
        credentials = {get_user_model().USERNAME_FIELD: userid, "password": password}
        # One hop for the user lookup and the hash check together (see the class docstring).
        user = await sync_to_async(authenticate)(request=request, **credentials)
        if user is None:
            raise exceptions.AuthenticationFailed(_("Invalid username/password."))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (user, None)
