"""
`APIView` whose whole dispatch runs as coroutines on the event loop.

Migrating a view is an import swap and `async def` handlers:

    from daf_drf.serializers import adata
    from daf_drf.views import APIView

    class OrderList(APIView):
        permission_classes = [IsAuthenticated]

        async def get(self, request):
            orders = Order.objects.filter(owner=request.user)
            return Response(await adata(OrderSerializer(orders, many=True)))
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.core.exceptions import SynchronousOnlyOperation
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from rest_framework import views as drf_views
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from daf_drf import permissions as daf_permissions
from daf_drf._views_sync import SyncCallSites, dual_mode_view, keep_outer_transaction
from daf_drf.exceptions import UserNotLoaded
from daf_drf.hooks import (
    call_hook,
    is_noop,
    overrides,
)
from daf_drf.request import Request
from daf_drf.response import render_on_loop
from daf_drf.throttling import aallow_together

# DRF's module-level helpers, re-exported so that the import swap also covers custom exception
# handlers (`from rest_framework.views import exception_handler`) and view-name settings.
exception_handler = drf_views.exception_handler
set_rollback = drf_views.set_rollback
get_view_name = drf_views.get_view_name
get_view_description = drf_views.get_view_description

__all__ = [
    "APIView",
    "check_async_handlers",
    "dual_mode_view",
    "exception_handler",
    "get_view_description",
    "get_view_name",
    "set_rollback",
]

_SYNC_ALLOWED = frozenset({"options"})

SYNC_ONLY_HINT = (
    "daf_drf: {view} ran a sync Django API that uses the database on the event loop. Common "
    "culprits in migrated code: the ORM, `login()`/`logout()`/`update_session_auth_hash()` "
    "(await `alogin`/`alogout`/`aupdate_session_auth_hash`), a signal whose receivers write "
    "(`await signal.asend(...)`, e.g. user_logged_in and its update_last_login receiver), "
    "anything else through `await sync_to_async(func)(...)`. See docs/migration.md, "
    '"Signals, mail and auth helpers in async code".'
)


def check_async_handlers(cls: type[drf_views.APIView], names: Iterable[str] | None = None) -> None:
    """
    Raise `TypeError` if a handler of the daf_drf view `cls` is not `async def`.

    `names` defaults to the class's `http_method_names`; DRF's sync `options` is exempt.
    """
    for name in names if names is not None else cls.http_method_names:
        if name in _SYNC_ALLOWED:
            continue
        handler = getattr(cls, name, None)
        # asgiref's test also accepts a wrapper marked as a coroutine function, such as
        # Django's `method_decorator(cache_page(60))` around an `async def` handler.
        if handler is None or iscoroutinefunction(handler):
            continue
        raise TypeError(
            f"{cls.__module__}.{cls.__qualname__}.{name}() must be `async def`: daf_drf views "
            "dispatch on the event loop. Make it a coroutine function, or subclass "
            "rest_framework.views.APIView for a sync view."
        )


def _sync_override(view: APIView, sync_name: str, async_name: str) -> bool:
    """
    Whether `view` overrides DRF's sync dispatch step `sync_name` (in its class, or assigned
    on the instance) without overriding its async twin: such an override is honoured (in a
    thread hop) instead of silently skipped.
    """
    return not overrides(view, async_name, APIView) and overrides(view, sync_name, APIView)


class APIView(SyncCallSites):
    """
    DRF's `APIView` with an async dispatch.

    Usage:

        class OrderDetail(APIView):
            permission_classes = [IsAuthenticated]

            async def get(self, request, pk):
                order = await Order.objects.aget(pk=pk, owner=request.user)
                return Response(OrderSerializer(order).data)

    Negotiation, versioning, `aperform_authentication`, `acheck_permissions`,
    `acheck_throttles`, the handler, `ahandle_exception` and `finalize_response` run in DRF's
    order as coroutines on the event loop. Sync hooks that may do I/O run in one
    `sync_to_async` hop each; pure ones run inline (see `daf_drf.hooks`). The sync methods of
    DRF's `APIView` keep working for DRF's own sync call sites (OPTIONS metadata, the
    browsable API, schema generation), and a subclass's sync override of `initial`,
    `check_permissions`, `check_object_permissions`, `check_throttles` or `handle_exception`
    is honoured in one hop.

    Guarantees: every answer (status, body, `Allow`, `Vary`, `WWW-Authenticate`,
    `Retry-After`) is what DRF's `APIView` answers, except the two documented hostile-body
    cases where DRF errors (`daf_drf.request.Request`); a view whose hooks are all async or pure
    makes no thread hop; an async hook is always awaited, never taken as truthy.

    Handlers must be `async def`; a sync handler is a `TypeError` when the class is defined.
    """

    # Django marks the view function as a coroutine function and Django's `options` answers
    # with a coroutine: true for every daf_drf view, even one without handlers yet.
    view_is_async = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        check_async_handlers(cls)

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        """
        DRF's `as_view()`, exempted from `ATOMIC_REQUESTS` on every database: Django refuses
        to wrap an async view in a transaction (`RuntimeError`), so a project that sets it
        could not convert a single endpoint otherwise. The view function is a coroutine
        function for Django, and returns the response when sync code calls it
        (`dual_mode_view`).
        """
        # Imported here: importing `daf_drf.transaction` registers its W040 check, which a
        # project that only imports `daf_drf.views` (without the app) never had.
        from daf_drf.transaction import mark_non_atomic

        return mark_non_atomic(dual_mode_view(super().as_view(**initkwargs)))

    # --- dispatch --------------------------------------------------------------------------

    def initialize_request(self, request: HttpRequest, *args: object, **kwargs: object) -> Request:
        parser_context = self.get_parser_context(request)
        return Request(
            request,
            parsers=self.get_parsers(),
            authenticators=self.get_authenticators(),
            negotiator=self.get_content_negotiator(),
            parser_context=parser_context,
        )

    async def dispatch(  # type: ignore[override]
        self, request: HttpRequest, *args: object, **kwargs: object
    ) -> HttpResponseBase:
        self.args = args
        self.kwargs = kwargs
        request = self.initialize_request(request, *args, **kwargs)
        self.request = request
        self.headers = self.default_response_headers

        try:
            await self._arun_initial(request, *args, **kwargs)
            method = request.method.lower()
            if method in self.http_method_names:
                handler = getattr(self, method, self.http_method_not_allowed)
            else:
                handler = self.http_method_not_allowed
            if (
                iscoroutinefunction(handler)
                or handler == self.http_method_not_allowed
                or getattr(handler, "__func__", None) is APIView.options
            ):
                response = handler(request, *args, **kwargs)
            else:
                # A project's own sync `options`: it may do I/O.
                response = await sync_to_async(handler)(request, *args, **kwargs)
            if inspect.isawaitable(response):
                response = await response
        except Exception as exc:
            if _sync_override(self, "handle_exception", "ahandle_exception"):
                response = await call_hook(self, self.handle_exception, exc)
            else:
                response = await self.ahandle_exception(exc)

        response = self.finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        # Django would render a DRF Response in a thread; a pure renderer renders on the loop.
        self.response = render_on_loop(response)
        return self.response

    async def _arun_initial(self, request: Request, *args: object, **kwargs: object) -> None:
        # A subclass written for DRF may override the sync `initial()` (and call
        # `super().initial()`); honour it in one thread hop, where DRF's sync checks work,
        # rather than skipping it. Overriding `ainitial` keeps everything on the loop.
        if _sync_override(self, "initial", "ainitial"):
            await call_hook(self, self.initial, request, *args, **kwargs)
        else:
            await self.ainitial(request, *args, **kwargs)

    async def ainitial(self, request: Request, *args: object, **kwargs: object) -> None:
        """The async twin of `initial()`: runs everything before the handler, in DRF's order."""
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        await self.aperform_authentication(request)
        if _sync_override(self, "check_permissions", "acheck_permissions"):
            await call_hook(self, self.check_permissions, request)
        else:
            await self.acheck_permissions(request)
        if _sync_override(self, "check_throttles", "acheck_throttles"):
            await call_hook(self, self.check_throttles, request)
        else:
            await self.acheck_throttles(request)

    async def _alazy(self, request: Request, func: Any, *args: Any) -> Any:
        # DRF authenticates on first access to `request.user`. When a hook reads it on the
        # loop before authentication ran (DRF's lazy idiom), authenticate and call it again.
        try:
            return await func(*args)
        except UserNotLoaded:
            await request.auser()
            return await func(*args)

    async def aperform_authentication(self, request: Request) -> None:
        """
        Authenticate the request on the loop (DRF's `perform_authentication`, async).

        A subclass that overrides the sync `perform_authentication` keeps its behaviour: a
        body-less override (DRF's lazy idiom) runs inline, any other runs in a thread.
        """
        if overrides(self, "perform_authentication", drf_views.APIView):
            if is_noop(self.perform_authentication):
                return
            await call_hook(self, self.perform_authentication, request)
            return
        await request.auser()

    async def acheck_permissions(self, request: Request) -> None:
        """Check `get_permissions()` in order; the first denial raises, as in DRF."""
        for permission in self.get_permissions():
            allowed = await self._alazy(
                request, daf_permissions.ahas_permission, permission, request, self
            )
            if not allowed:
                await self.apermission_denied(
                    request,
                    message=getattr(permission, "message", None),
                    code=getattr(permission, "code", None),
                )

    async def acheck_object_permissions(self, request: Request, obj: object) -> None:
        """Check object permissions in order; the first denial raises, as in DRF."""
        for permission in self.get_permissions():
            allowed = await self._alazy(
                request, daf_permissions.ahas_object_permission, permission, request, self, obj
            )
            if not allowed:
                await self.apermission_denied(
                    request,
                    message=getattr(permission, "message", None),
                    code=getattr(permission, "code", None),
                )

    async def _arun_object_checks(self, request: Request, obj: object) -> None:
        # A sync `check_object_permissions` written for DRF (calling `super()` or not) is
        # honoured in one thread hop, as `check_permissions` is; never skipped.
        if _sync_override(self, "check_object_permissions", "acheck_object_permissions"):
            await call_hook(self, self.check_object_permissions, request, obj)
        else:
            await self.acheck_object_permissions(request, obj)

    async def apermission_denied(
        self, request: Request, message: str | None = None, code: str | None = None
    ) -> None:
        """Raise `NotAuthenticated` or `PermissionDenied` exactly as `permission_denied`."""
        if request.authenticators and "_authenticator" not in request.__dict__:
            # DRF's `successful_authenticator` authenticates on first access; do it here,
            # on the loop, before the sync `permission_denied` reads it.
            await request._aauthenticate()
        self.permission_denied(request, message=message, code=code)

    async def acheck_throttles(self, request: Request) -> None:
        """
        Evaluate every throttle (no short-circuit, as DRF's tests require) and raise
        `Throttled` with the largest wait, ignoring `None` waits.
        """
        durations = []
        throttles = self.get_throttles()
        together = None
        if len(throttles) > 1:  # one round trip to the store for all of them, when possible
            together = await self._alazy(request, aallow_together, throttles, request, self)
        for index, throttle in enumerate(throttles):
            if together is not None:
                allowed = together[index]
            else:
                allowed = await self._alazy(request, _athrottle_allows, throttle, request, self)
            if not allowed:
                wait = throttle.wait()
                if inspect.isawaitable(wait):
                    wait = await wait
                durations.append(wait)
        if durations:
            # Filter out `None` values which may happen in case of config / rate changes.
            valid = [d for d in durations if d is not None]
            self.throttled(request, max(valid, default=None))  # type: ignore[arg-type]

    async def ahandle_exception(self, exc: Exception) -> HttpResponseBase:
        """
        The async twin of `handle_exception`: the 401-vs-403 rule, then `EXCEPTION_HANDLER`
        (read per call, like DRF) awaited if async, inline if pure, else in one thread hop.
        """
        self._set_authenticate_header(exc)
        self._explain_sync_only(exc)
        handler = keep_outer_transaction(self.get_exception_handler())
        context = self.get_exception_handler_context()
        # An error before authentication (406, a versioning 404) reaches a handler that may
        # read `request.user`: authenticate then, as DRF's lazy `request.user` would.
        response: Response | None = await self._alazy(
            self.request,  # type: ignore[arg-type]
            call_hook,
            None,
            handler,
            exc,
            context,
        )
        if response is None:
            self.raise_uncaught_exception(exc)
        response.exception = True
        return response

    def _explain_sync_only(self, exc: Exception) -> None:
        # Django's message says what, not which call of a migrated view or how to fix it.
        if isinstance(exc, SynchronousOnlyOperation) and not getattr(exc, "_daf_hint", False):
            setattr(exc, "_daf_hint", True)  # noqa: B010 (read back with getattr)
            exc.add_note(SYNC_ONLY_HINT.format(view=type(self).__qualname__))


async def _athrottle_allows(throttle: BaseThrottle, request: Request, view: APIView) -> bool:
    method = getattr(throttle, "aallow_request", None) or throttle.allow_request
    return bool(await call_hook(throttle, method, request, view))


if TYPE_CHECKING:
    # Deprecated (see `__getattr__`); type checkers see the name, but no module `__getattr__`
    # that would hide a misspelt import.
    AsyncAPIView = APIView
else:

    def __getattr__(name: str) -> type[APIView]:
        # `AsyncAPIView` was a second name for `APIView`, whose dispatch is already async.
        if name == "AsyncAPIView":
            warnings.warn(
                "daf_drf.views.AsyncAPIView is deprecated: it is APIView under another name. "
                "Use daf_drf.views.APIView.",
                DeprecationWarning,
                stacklevel=2,
            )
            return APIView
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
