"""
The compat project's `EXCEPTION_HANDLER`: a sync function that writes an `ErrorLog` row for
every 401/403 (ORM work during error handling) and decorates DRF's response.
"""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from compat.project.drf_app.models import ErrorLog


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, exceptions.APIException) and exc.status_code in (401, 403):
        # Before DRF's handler: it marks an ATOMIC_REQUESTS transaction for rollback, and
        # queries are refused after that.
        ErrorLog.objects.create(
            status=exc.status_code,
            path=context["request"].path[:200],
            code=str(exc.get_codes()) if isinstance(exc.detail, str) else "",
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict) and "detail" in response.data:
        response.data["status_code"] = response.status_code
    response["X-Error-Type"] = type(exc).__name__
    return response
