"""
The request object of daf_drf views: DRF's `Request` with async authentication.

After `aperform_authentication` has run, `request.user` and `request.auth` are plain values,
readable anywhere. Before that (DRF's lazy-authentication idiom), async code awaits
`request.auser()` / `request.aauth()`; reading `request.user` on the event loop raises
`UserNotLoaded` with that advice instead of running authenticators synchronously on the loop.
In a worker thread (a sync hook run by `sync_to_async`) `request.user` authenticates
synchronously, as in DRF.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import QueryDict
from django.http.request import RawPostDataException
from django.utils.datastructures import MultiValueDict
from rest_framework import exceptions as drf_exceptions
from rest_framework import request as drf_request
from rest_framework.parsers import BaseParser, FormParser, JSONParser

from daf_drf.exceptions import ParseError, PayloadTooLarge, UserNotLoaded
from daf_drf.hooks import call_hook, on_event_loop, resolve_sync

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, _User
    from rest_framework.authentication import BaseAuthentication
    from rest_framework.authtoken.models import Token
    from rest_framework.request import ForcedAuthentication

__all__ = ["Request"]


class _Proxied:
    """
    Read `name` from the wrapped `HttpRequest` without DRF's `__getattr__` fallback.

    DRF's `Request` proxies unknown attributes by failing the normal lookup first, which costs
    more than the read on hot attributes (throttles read `request.META` on every check). A
    non-data descriptor gives the same answer directly, and an attribute set on the `Request`
    itself still shadows it, as with DRF's proxy.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, instance: Request | None, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return getattr(instance._request, self.name)


class Request(drf_request.Request):
    """
    DRF's `Request` with `auser()`/`aauth()` and hardened body parsing.

    Parsing differs from DRF in two documented ways: a body nested too deeply for the parser
    (`RecursionError`) is a 400 `ParseError` instead of a 500, and a non-multipart body over
    `DATA_UPLOAD_MAX_MEMORY_SIZE` is a 413 `PayloadTooLarge` instead of Django's HTML 400.
    """

    #: JSON bodies nested deeper than this are a 400 ParseError (DRF: a 500 on Python 3.11).
    json_max_depth = 512

    META = _Proxied("META")
    method = _Proxied("method")

    # --- authentication -------------------------------------------------------------------

    def _authenticated(self) -> bool:
        return "_user" in self.__dict__

    @property
    def user(self) -> _User | AnonymousUser:
        user: _User | AnonymousUser
        try:
            user = self.__dict__["_user"]
            return user
        except KeyError:
            pass
        if on_event_loop():
            raise UserNotLoaded("user")
        with drf_request.wrap_attributeerrors():
            self._authenticate()
        user = self.__dict__["_user"]
        return user

    @user.setter
    def user(self, value: _User | AnonymousUser) -> None:
        self._user = value
        self._request.user = value

    @property
    def auth(self) -> Token | Any:
        try:
            return self.__dict__["_auth"]
        except KeyError:
            pass
        if on_event_loop():
            raise UserNotLoaded("auth")
        with drf_request.wrap_attributeerrors():
            self._authenticate()
        return self.__dict__["_auth"]

    @auth.setter
    def auth(self, value: Token | Any) -> None:
        self._auth = value
        self._request.auth = value  # type: ignore[attr-defined]

    @property
    def successful_authenticator(self) -> BaseAuthentication | ForcedAuthentication | None:
        if "_authenticator" not in self.__dict__:
            if on_event_loop():
                raise UserNotLoaded("user")
            with drf_request.wrap_attributeerrors():
                self._authenticate()
        return self._authenticator

    async def auser(self) -> _User | AnonymousUser:
        """Return the authenticated user, authenticating the request first if needed."""
        if not self._authenticated():
            await self._aauthenticate()
        return self._user

    async def aauth(self) -> Token | Any:
        """Return the authentication info (a token...), authenticating first if needed."""
        if not self._authenticated():
            await self._aauthenticate()
        return self._auth

    def _authenticate(self) -> None:
        # DRF's loop, for worker threads and sync call sites; an async authenticator's
        # result is awaited through async_to_sync, never taken as a (user, auth) tuple.
        for authenticator in self.authenticators or ():
            try:
                result = resolve_sync(
                    authenticator.authenticate(self),
                    what=f"{type(authenticator).__name__}.authenticate",
                )
            except drf_exceptions.APIException:
                self._anonymous()
                raise
            if result is not None:
                self._authenticator = authenticator
                self.user, self.auth = result
                return
        self._anonymous()

    def _anonymous(self) -> None:
        # DRF's `_not_authenticated()` (UNAUTHENTICATED_USER / _TOKEN), absent from its stubs.
        self._not_authenticated()  # type: ignore[attr-defined]

    async def _aauthenticate(self) -> None:
        """Authenticate on the event loop: `aauthenticate` if present, else the hook rule."""
        for authenticator in self.authenticators or ():
            try:
                aauthenticate = getattr(authenticator, "aauthenticate", None)
                if aauthenticate is not None:
                    result = await call_hook(authenticator, aauthenticate, self)
                else:
                    result = await call_hook(authenticator, authenticator.authenticate, self)
            except drf_exceptions.APIException:
                self._anonymous()
                raise
            if result is not None:
                self._authenticator = authenticator
                self.user, self.auth = result
                return
        self._anonymous()

    # --- parsing ---------------------------------------------------------------------------

    def _parse(self) -> tuple[Any, Any]:
        try:
            if self._parses_whole_body():
                # DRF >= 3.17.2 parses JSON and form bodies from `request.body`, which makes
                # Django enforce DATA_UPLOAD_MAX_MEMORY_SIZE; read it first so that older DRF
                # versions enforce it too. Streaming parsers (multipart, file uploads) keep
                # streaming, as in DRF.
                # Already read by a middleware: DRF's own handling applies.
                with suppress(RawPostDataException):
                    self._request.body  # noqa: B018
                self._check_charset()
                self._check_json_depth()
            return super()._parse()  # type: ignore[misc,no-any-return]
        except RequestDataTooBig as exc:
            self._empty_data()
            raise PayloadTooLarge() from exc
        except RecursionError as exc:
            self._empty_data()
            raise ParseError("Parse error - the request body is nested too deeply.") from exc

    def _check_json_depth(self) -> None:
        # Deep nesting must be a 400 on every Python: 3.11's json module raises RecursionError
        # near 1,000 levels (DRF answers 500), while 3.12+ parses far deeper, at a cost. The
        # scan runs only when the body holds more brackets than the limit at all.
        if not isinstance(self._body_parser(), JSONParser):
            return
        try:
            body = self._request.body
        except RawPostDataException:
            return
        limit = self.json_max_depth
        if body.count(b"[") + body.count(b"{") > limit and _json_depth_exceeds(body, limit):
            self._empty_data()
            raise ParseError("Parse error - the request body is nested too deeply.")

    def _check_charset(self) -> None:
        # DRF 3.18 refuses charsets that are not text encodings (`bz2_codec` would decompress a
        # tiny body without bound, after the size limit was checked). Older DRF decodes with
        # them (a 500, or worse); daf_drf answers DRF 3.18's 400 on every version.
        encoding = self.parser_context.get("encoding") or settings.DEFAULT_CHARSET
        try:
            "".encode(encoding)
        except (LookupError, UnicodeError):
            self._empty_data()
            raise ParseError(
                f'Unsupported charset "{encoding}" in request Content-Type header.'
            ) from None

    def _parses_whole_body(self) -> bool:
        if not self.content_type or self._request._read_started:  # type: ignore[attr-defined]
            return False
        return isinstance(self._body_parser(), JSONParser | FormParser)

    def _body_parser(self) -> BaseParser | None:
        # DRF's `__init__` always sets a negotiator; its stubs allow `None`.
        if self.negotiator is None:
            return None
        return self.negotiator.select_parser(self, self.parsers or [])

    def _empty_data(self) -> None:
        self._data = QueryDict("", encoding=self._request.encoding)
        self._files: MultiValueDict[str, Any] = MultiValueDict()
        self._full_data = self._data


_JSON_STRUCTURE = re.compile(rb'["\\\[\]{}]')


def _json_depth_exceeds(body: bytes, limit: int) -> bool:
    """Whether the JSON text `body` nests arrays and objects deeper than `limit`."""
    depth, in_string, escaped_at = 0, False, -1
    for match in _JSON_STRUCTURE.finditer(body):
        position = match.start()
        if position == escaped_at:
            continue  # the character after a backslash inside a string
        char = body[position]
        if in_string:
            if char == 0x5C:  # backslash
                escaped_at = position + 1
            elif char == 0x22:  # closing quote
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif char in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False
