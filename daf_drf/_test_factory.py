"""
`AsyncAPIRequestFactory`: DRF's `APIRequestFactory` building `ASGIRequest` objects.

Public through `daf_drf.test`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import SplitResult, urlencode, urlsplit

from django.conf import settings
from django.core.handlers.asgi import ASGIRequest
from django.test.client import AsyncRequestFactory as DjangoAsyncRequestFactory
from django.test.client import FakePayload
from django.utils.encoding import force_bytes
from django.utils.functional import Promise
from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings

__all__ = ["AsyncAPIRequestFactory", "asgi_header_name"]

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

    if TYPE_CHECKING:
        # Django's `RequestFactory` helpers this factory relies on, absent from django-stubs.
        def _encode_json(self, data: object, content_type: str) -> str | bytes: ...
        def _get_path(self, parsed: SplitResult) -> str: ...

    def __init__(self, enforce_csrf_checks: bool = False, **defaults: Any) -> None:
        self.enforce_csrf_checks = enforce_csrf_checks
        # DRF's settings are untyped: the setting is a list of renderer classes once imported.
        renderer_classes = cast(list[type[BaseRenderer]], self.renderer_classes_list)
        self.renderer_classes: dict[str, type[BaseRenderer]] = {
            str(cls.format): cls for cls in renderer_classes
        }
        super().__init__(**defaults)

    def _encode_data(
        self, data: object, format: str | None = None, content_type: str | None = None
    ) -> tuple[bytes, str | None]:
        """Encode `data` as DRF does: raw bytes for `content_type`, a renderer for `format`."""
        if data is None:
            return b"", content_type
        if format is not None and content_type is not None:
            raise TypeError("You may not set both `format` and `content_type`.")
        if content_type:
            encoded = self._encode_json(data, content_type)
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

    def get(
        self,
        path: str | Promise,
        data: Any = None,
        secure: bool = False,
        *,
        headers: Mapping[str, str] | None = None,
        query_params: Mapping[Any, Any] | None = None,
        **extra: Any,
    ) -> ASGIRequest:
        if data:
            extra["QUERY_STRING"] = urlencode(data, doseq=True)
        extra.pop("content_type", None)
        return self.generic(
            "GET", path, secure=secure, headers=headers, query_params=query_params, **extra
        )

    def head(
        self,
        path: str | Promise,
        data: Any = None,
        secure: bool = False,
        *,
        headers: Mapping[str, str] | None = None,
        query_params: Mapping[Any, Any] | None = None,
        **extra: Any,
    ) -> ASGIRequest:
        if data:
            extra["QUERY_STRING"] = urlencode(data, doseq=True)
        extra.pop("content_type", None)
        return self.generic(
            "HEAD", path, secure=secure, headers=headers, query_params=query_params, **extra
        )

    def _with_body(
        self,
        method: str,
        path: str,
        data: object,
        format: str | None,
        content_type: str | None,
        extra: dict[str, Any],
    ) -> ASGIRequest:
        body, content_type = self._encode_data(data, format, content_type)
        return self.generic(method, path, body, content_type, **extra)

    def post(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> ASGIRequest:
        return self._with_body("POST", path, data, format, content_type, extra)

    def put(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> ASGIRequest:
        return self._with_body("PUT", path, data, format, content_type, extra)

    def patch(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> ASGIRequest:
        return self._with_body("PATCH", path, data, format, content_type, extra)

    def delete(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> ASGIRequest:
        return self._with_body("DELETE", path, data, format, content_type, extra)

    def options(  # type: ignore[override]
        self,
        path: str,
        data: object = None,
        format: str | None = None,
        content_type: str | None = None,
        **extra: Any,
    ) -> ASGIRequest:
        return self._with_body("OPTIONS", path, data, format, content_type, extra)

    def generic(
        self,
        method: str,
        path: str | Promise,
        data: Any = b"",
        content_type: str | None = None,
        secure: bool = False,
        *,
        headers: Mapping[str, str] | None = None,
        query_params: Mapping[Any, Any] | None = None,
        **extra: Any,
    ) -> ASGIRequest:
        """Build the ASGI scope for one request and hand it to `request()`."""
        parsed = urlsplit(str(path))
        body = force_bytes(data, settings.DEFAULT_CHARSET)
        scope: dict[str, Any] = {
            "method": method.upper(),
            "path": self._get_path(parsed),
            "server": ("127.0.0.1", "443" if secure else "80"),
            "scheme": "https" if secure else "http",
            "query_string": parsed.query,
        }
        wsgi: dict[str, object] = {**self.defaults, **extra}
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

    def request(self, **request: Any) -> ASGIRequest:
        built = super().request(**request)
        built._dont_enforce_csrf_checks = not self.enforce_csrf_checks  # type: ignore[attr-defined]
        return built
