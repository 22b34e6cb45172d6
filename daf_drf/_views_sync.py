"""
DRF's sync call sites of a daf_drf view, and the view function's two modes.

DRF's own sync code still calls a view's sync methods: its metadata (OPTIONS), the browsable
API and the schema generators call `check_permissions`, `check_object_permissions` and
`check_throttles`; a project's sync override of `handle_exception` calls `super()` in the
thread hop that runs it. `SyncCallSites` keeps those methods working for a view whose hooks
may be `async def`: an awaitable is awaited through `async_to_sync` in a worker thread and
denied on the event loop thread (`daf_drf.hooks.resolve_sync`). `daf_drf.views.APIView`
builds its async dispatch on top of it.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any

from asgiref.sync import async_to_sync, markcoroutinefunction, sync_to_async
from django.db import connections
from django.http.response import HttpResponseBase
from rest_framework import exceptions as drf_exceptions
from rest_framework import views as drf_views
from rest_framework.metadata import SimpleMetadata
from rest_framework.request import Request
from rest_framework.response import Response

from daf_drf import permissions as daf_permissions
from daf_drf.hooks import HookNotAwaitable, is_inline_safe, on_event_loop, resolve_sync

__all__ = ["SyncCallSites", "dual_mode_view", "keep_outer_transaction"]


def keep_outer_transaction(handler: Any) -> Any:
    """
    Wrap a sync `EXCEPTION_HANDLER` so that DRF's `set_rollback()` cannot poison a
    transaction that is not the request's.

    DRF's handler marks the innermost atomic block of every `ATOMIC_REQUESTS` database for
    rollback. A daf_drf view runs outside any request transaction, so that block belongs to
    someone else (a `TestCase`'s transaction, a caller's `atomic`), and every later query in it
    would fail with `TransactionManagementError`. Marks that appear during the call are undone
    in the thread the handler ran in; the hook rule (inline or one hop) is unchanged.
    """
    if inspect.iscoroutinefunction(handler):
        return handler

    def handle(exc: Exception, context: dict[str, Any]) -> Any:
        clean = [c for c in connections.all(initialized_only=True) if not c.needs_rollback]
        try:
            return handler(exc, context)
        finally:
            for conn in clean:
                if conn.settings_dict.get("ATOMIC_REQUESTS") and conn.in_atomic_block:
                    conn.needs_rollback = False

    setattr(handle, "inline_safe", is_inline_safe(None, handler))  # noqa: B010 (read back with getattr)
    return handle


def dual_mode_view(view: Any) -> Any:
    """
    Wrap the async view function `view` so that sync code can call it as DRF's tests do.

    On the event loop (ASGI, `await view(request)`) the wrapper returns `view`'s coroutine:
    nothing is added to the async path but one check. Called from sync code (a sync test,
    a management command), it runs the view to completion with `async_to_sync` and returns
    the response, as DRF's view function does; thread-sensitive hops come back to the calling
    thread, so a `TestCase`'s transaction is seen. Django still sees a coroutine function.
    """

    def view_or_coroutine(request: Any, *args: Any, **kwargs: Any) -> Any:
        if on_event_loop():
            return view(request, *args, **kwargs)
        return async_to_sync(view)(request, *args, **kwargs)

    functools.update_wrapper(view_or_coroutine, view)  # cls, initkwargs, csrf_exempt, ...
    return markcoroutinefunction(view_or_coroutine)


class SyncCallSites(drf_views.APIView):
    # DRF's sync methods that DRF's own code calls on a daf_drf view (no docstring: drf-spectacular
    # reads a view's MRO for its description).

    def _set_authenticate_header(self, exc: Exception) -> None:
        # DRF's 401-vs-403 rule: 401 with the first authenticator's header, else 403.
        if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
            auth_header = self.get_authenticate_header(self.request)
            if auth_header:
                setattr(exc, "auth_header", auth_header)  # noqa: B010 (read by DRF's handler)
            else:
                exc.status_code = 403

    def handle_exception(self, exc: Exception) -> HttpResponseBase:  # type: ignore[override]
        # DRF's `handle_exception`, for a subclass's sync override that calls `super()` (it
        # runs in a worker thread): an async `EXCEPTION_HANDLER` is awaited there.
        self._set_authenticate_header(exc)
        handler = keep_outer_transaction(self.get_exception_handler())
        response: Response | None = resolve_sync(
            handler(exc, self.get_exception_handler_context()), what="EXCEPTION_HANDLER"
        )
        if response is None:
            self.raise_uncaught_exception(exc)
        response.exception = True
        return response

    def check_permissions(self, request: Request) -> None:
        # Used by DRF's metadata, browsable API and schema generator. Async permissions are
        # awaited from worker threads and denied on the event loop thread.
        for permission in self.get_permissions():
            if not daf_permissions.has_permission(permission, request, self):
                self.permission_denied(
                    request,
                    message=getattr(permission, "message", None),
                    code=getattr(permission, "code", None),
                )

    def check_object_permissions(self, request: Request, obj: object) -> None:
        for permission in self.get_permissions():
            if not daf_permissions.has_object_permission(permission, request, self, obj):
                self.permission_denied(
                    request,
                    message=getattr(permission, "message", None),
                    code=getattr(permission, "code", None),
                )

    def check_throttles(self, request: Request) -> None:
        durations = []
        for throttle in self.get_throttles():
            try:
                allowed = resolve_sync(
                    throttle.allow_request(request, self),
                    what=f"{type(throttle).__name__}.allow_request",
                )
            except HookNotAwaitable:
                allowed = False
            if not allowed:
                try:
                    durations.append(resolve_sync(throttle.wait(), what="wait"))
                except HookNotAwaitable:  # an async `wait` on the loop thread: no wait known
                    durations.append(None)
        if durations:
            valid = [d for d in durations if d is not None]
            self.throttled(request, max(valid, default=None))  # type: ignore[arg-type]

    def options(self, request: Any, *args: object, **kwargs: object) -> Any:
        """
        DRF's OPTIONS metadata, dual-mode: from sync code (a project's sync `options` override
        calling `super()`, which runs in a thread hop) it is DRF's `options`; on the event loop
        it returns an awaitable (`aoptions`).
        """
        if on_event_loop():
            return self.aoptions(request, *args, **kwargs)
        return super().options(request, *args, **kwargs)

    async def aoptions(self, request: Request, *args: object, **kwargs: object) -> Response:
        """
        DRF's OPTIONS metadata on the loop. DRF's `SimpleMetadata` for a view without a
        serializer is pure and runs inline; anything else (it may check permissions or load
        the object) runs in one thread hop, where DRF's sync call sites work.
        """
        if self.metadata_class is None:
            return self.http_method_not_allowed(request, *args, **kwargs)
        metadata = self.metadata_class()  # type: ignore[operator]
        if type(metadata) is SimpleMetadata and not hasattr(self, "get_serializer"):
            data = metadata.determine_metadata(request, self)
        else:
            data = await sync_to_async(metadata.determine_metadata)(request, self)
        return Response(data, status=200)
