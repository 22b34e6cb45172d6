"""
Exceptions and exception handlers for daf_drf views.

Every exception class of `rest_framework.exceptions` is re-exported here, so that
`from daf_drf import exceptions` is a drop-in import swap. daf_drf adds:

- `PayloadTooLarge`: a 413 for bodies over `DATA_UPLOAD_MAX_MEMORY_SIZE`.
- `UserNotLoaded`: a programming error raised when `request.user` is read on the event loop
  before authentication ran.
- `exception_handler`: deprecated, an async wrapper of DRF's default handler (which daf_drf
  views already run inline on the loop).
- `problem_details_handler`: an opt-in handler answering RFC 9457 `application/problem+json`.

DRF's `bad_request` and `server_error` (JSON `handler400`/`handler500` views) are re-exported too.
"""

from __future__ import annotations

import warnings
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.exceptions import (
    APIException,
    AuthenticationFailed,
    ErrorDetail,
    MethodNotAllowed,
    NotAcceptable,
    NotAuthenticated,
    NotFound,
    ParseError,
    PermissionDenied,
    Throttled,
    UnsupportedMediaType,
    ValidationError,
    bad_request,
    server_error,
)
from rest_framework.response import Response

from daf_drf.hooks import inline_safe

__all__ = [
    "APIException",
    "AuthenticationFailed",
    "ErrorDetail",
    "MethodNotAllowed",
    "NotAcceptable",
    "NotAuthenticated",
    "NotFound",
    "ParseError",
    "PayloadTooLarge",
    "PermissionDenied",
    "Throttled",
    "UnsupportedMediaType",
    "UserNotLoaded",
    "ValidationError",
    "bad_request",
    "exception_handler",
    "problem_details_handler",
    "server_error",
]


class PayloadTooLarge(APIException):
    """The request body is larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (HTTP 413)."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
    default_code = "request_too_large"


class UserNotLoaded(RuntimeError):
    """
    `request.user` or `request.auth` was read on the event loop before authentication ran.

    DRF authenticates lazily on first access, which would run authenticators (and the ORM)
    synchronously on the loop. In an async handler use `await request.auser()` or
    `await request.aauth()` instead.
    """

    def __init__(self, attribute: str = "user") -> None:
        super().__init__(
            f"request.{attribute} was read on the event loop before the request was "
            f"authenticated. Use `await request.a{attribute}()` in async code, or keep "
            "DRF's default `perform_authentication` so that daf_drf authenticates the "
            "request before the handler runs."
        )


def _drf_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    # Imported on call: DRF's settings may name this module's handlers (and `daf_drf.permissions`
    # imports it) while `rest_framework.views` is still being imported.
    from rest_framework.views import exception_handler as drf_handler

    return drf_handler(exc, context)


async def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """
    Deprecated: an async wrapper of `rest_framework.views.exception_handler`.

    It answers exactly what DRF's default handler answers (status, body, `WWW-Authenticate`,
    `Retry-After`) and returns `None` for exceptions DRF does not handle, because it only calls
    it. It has no reason to exist: daf_drf views already run DRF's handler inline on the loop
    (it is pure, so it costs no thread hop), and DRF's handler serves DRF views too, which this
    one cannot (system check `daf_drf.E005`). Each call warns with a `DeprecationWarning`;
    name `rest_framework.views.exception_handler` in `EXCEPTION_HANDLER`, or remove the
    setting (it is DRF's default).
    """
    warnings.warn(
        "daf_drf.exceptions.exception_handler is deprecated: it only calls DRF's "
        "rest_framework.views.exception_handler, which daf_drf views run inline on the event "
        "loop and which serves DRF views too. Set REST_FRAMEWORK['EXCEPTION_HANDLER'] to "
        "'rest_framework.views.exception_handler', or remove it (DRF's default).",
        DeprecationWarning,
        stacklevel=2,
    )
    return _drf_exception_handler(exc, context)


@inline_safe  # pure: daf_drf views call it on the loop, DRF views call it as usual
def problem_details_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """
    An opt-in exception handler answering RFC 9457 problem details.

        REST_FRAMEWORK = {"EXCEPTION_HANDLER": "daf_drf.exceptions.problem_details_handler"}

    It handles exactly what DRF's default handler handles, with DRF's status and headers
    (`WWW-Authenticate`, `Retry-After`); anything else still propagates. The body has the
    RFC's members `type` (`"about:blank"`), `title` (the status phrase, as the RFC asks for
    `about:blank`), `status`, `detail` and `instance` (the request path), plus two extension
    members: `code` (DRF's error code) and, when DRF's body is a list or a dict of field
    errors, `errors` (DRF's body, unchanged). A JSON response is labelled
    `application/problem+json`; other renderers (the browsable API) keep their own media type.
    """
    response = _drf_exception_handler(exc, context)
    if response is None:
        return None
    status_code = response.status_code
    body: dict[str, object] = {
        "type": "about:blank",
        "title": response.status_text,
        "status": status_code,
    }
    data = response.data
    if isinstance(data, dict) and set(data) == {"detail"}:
        body["detail"] = str(data["detail"])
        code = getattr(data["detail"], "code", None)
    else:
        body["detail"] = "Invalid input." if status_code == 400 else response.status_text
        body["errors"] = data
        code = exc.default_code if isinstance(exc, APIException) else None
    request = context.get("request")
    if request is not None:
        body["instance"] = request.path
    if code:
        body["code"] = code
    response.data = body
    renderer = getattr(request, "accepted_renderer", None)
    if renderer is None or getattr(renderer, "format", None) == "json":
        response.content_type = "application/problem+json"
    return response
