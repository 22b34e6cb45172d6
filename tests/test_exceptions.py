"""
Exception handling: every path answers what DRF answers (checked with `compat.differential`),
sync and async `EXCEPTION_HANDLER`s, and the opt-in RFC 9457 problem details.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.test import SimpleTestCase, TestCase, override_settings
from django.urls import path
from rest_framework import exceptions, permissions
from rest_framework import views as drf_views
from rest_framework.authentication import (
    BasicAuthentication,
    SessionAuthentication,
    TokenAuthentication,
)
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from compat.differential import assert_same_response
from daf_drf import exceptions as daf_exceptions
from daf_drf.exceptions import PayloadTooLarge, problem_details_handler
from daf_drf.views import APIView
from tests.models import AuditEntry


class Teapot(exceptions.APIException):
    status_code = 418
    default_detail = "I'm a teapot."
    default_code = "teapot"


# name -> (exception factory, authentication classes)
CASES: dict[str, tuple[Callable[[], Exception], list[Any]]] = {
    "api_exception": (exceptions.APIException, []),
    "custom_subclass": (Teapot, []),
    "validation_dict": (lambda: exceptions.ValidationError({"name": ["Required."]}), []),
    "validation_str": (lambda: exceptions.ValidationError("Bad."), []),
    "parse_error": (exceptions.ParseError, []),
    "authentication_failed_token": (exceptions.AuthenticationFailed, [TokenAuthentication]),
    "authentication_failed_session": (exceptions.AuthenticationFailed, [SessionAuthentication]),
    "not_authenticated_basic": (exceptions.NotAuthenticated, [BasicAuthentication]),
    "not_authenticated_no_authenticators": (exceptions.NotAuthenticated, []),
    "permission_denied": (lambda: exceptions.PermissionDenied("No.", code="nope"), []),
    "not_found": (exceptions.NotFound, []),
    "method_not_allowed": (lambda: exceptions.MethodNotAllowed("PATCH"), []),
    "not_acceptable": (exceptions.NotAcceptable, []),
    "unsupported_media_type": (lambda: exceptions.UnsupportedMediaType("x/y"), []),
    "throttled_wait": (lambda: exceptions.Throttled(wait=3.2), []),
    "throttled_zero_wait": (lambda: exceptions.Throttled(wait=0), []),
    "throttled_no_wait": (exceptions.Throttled, []),
    "payload_too_large": (PayloadTooLarge, []),
    "django_http404": (lambda: Http404("No such thing."), []),
    "django_permission_denied": (lambda: DjangoPermissionDenied("Forbidden."), []),
    "unhandled_runtime_error": (lambda: RuntimeError("internal"), []),
    "unhandled_key_error": (lambda: KeyError("missing"), []),
}


def twins(
    factory: Callable[[], Exception],
    authentication: list[Any],
    daf_handler: Callable[..., Any] | None = None,
) -> tuple[Any, Any]:
    """A DRF view and its daf_drf twin whose `get` raises a fresh `factory()`."""

    class Raiser(drf_views.APIView):
        authentication_classes = authentication

        def get(self, request: Any) -> Response:
            raise factory()

    class AsyncRaiser(APIView):
        authentication_classes = authentication

        async def get(self, request: Any) -> Response:
            raise factory()

        if daf_handler is not None:

            def get_exception_handler(self) -> Any:
                return daf_handler

    return Raiser.as_view(), AsyncRaiser.as_view()


class DenyAll(permissions.BasePermission):
    message = "Denied for everyone."
    code = "deny_all"

    def has_permission(self, request: Any, view: Any) -> bool:
        return False


def permission_twins(authentication: list[Any], permission: Any) -> tuple[Any, Any]:
    class Guarded(drf_views.APIView):
        authentication_classes = authentication
        permission_classes = [permission]

        def get(self, request: Any) -> Response:
            return Response({"ok": True})

    class AsyncGuarded(APIView):
        authentication_classes = authentication
        permission_classes = [permission]

        async def get(self, request: Any) -> Response:
            return Response({"ok": True})

    return Guarded.as_view(), AsyncGuarded.as_view()


class ExceptionPathsTests(SimpleTestCase):
    async def test_every_exception_answers_like_drf_with_drfs_default_handler(self) -> None:
        for name, (factory, authentication) in CASES.items():
            with self.subTest(name):
                await assert_same_response(*twins(factory, authentication))

    async def test_every_exception_answers_like_drf_with_daf_drfs_async_handler(self) -> None:
        for name, (factory, authentication) in CASES.items():
            with self.subTest(name):
                drf, daf = twins(factory, authentication, daf_exceptions.exception_handler)
                with pytest.warns(DeprecationWarning, match="deprecated"):
                    await assert_same_response(drf, daf)

    async def test_the_async_exception_handler_warns_that_it_is_deprecated(self) -> None:
        exc = exceptions.NotFound()
        with pytest.warns(DeprecationWarning, match="is deprecated") as caught:
            response = await daf_exceptions.exception_handler(exc, {})
        assert response is not None
        assert response.status_code == 404
        assert response.data == drf_views.exception_handler(exc, {}).data  # type: ignore[union-attr]
        assert len(caught) == 1
        message = str(caught[0].message)
        assert "daf_drf.exceptions.exception_handler is deprecated" in message
        assert "rest_framework.views.exception_handler" in message

    async def test_not_authenticated_is_401_with_www_authenticate_of_the_first_authenticator(
        self,
    ) -> None:
        drf, daf = permission_twins(
            [TokenAuthentication, BasicAuthentication], permissions.IsAuthenticated
        )
        outcome = await assert_same_response(drf, daf)
        assert outcome.status == 401
        assert outcome.headers["WWW-Authenticate"] == "Token"

    async def test_not_authenticated_is_403_when_the_first_authenticator_has_no_header(
        self,
    ) -> None:
        drf, daf = permission_twins(
            [SessionAuthentication, TokenAuthentication], permissions.IsAuthenticated
        )
        outcome = await assert_same_response(drf, daf)
        assert outcome.status == 403
        assert outcome.headers["WWW-Authenticate"] is None

    async def test_authenticated_but_denied_is_403_with_the_permissions_message(self) -> None:
        drf, daf = permission_twins([TokenAuthentication], DenyAll)
        outcome = await assert_same_response(drf, daf, user=User(username="ada"))
        assert outcome.status == 403
        assert outcome.body == b'{"detail":"Denied for everyone."}'

    async def test_unhandled_exception_propagates_like_drf(self) -> None:
        factory, authentication = CASES["unhandled_runtime_error"]
        outcome = await assert_same_response(*twins(factory, authentication))
        assert outcome.exception == ("builtins.RuntimeError", "internal")

    @override_settings(DEBUG=True)
    async def test_uncaught_exception_with_debug_reaches_djangos_debug_page_like_drf(
        self,
    ) -> None:
        drf, daf = twins(lambda: RuntimeError("debug me"), [])
        drf_response = await differential_client_get(drf)
        daf_response = await differential_client_get(daf)
        assert drf_response.status_code == daf_response.status_code == 500
        assert drf_response["Content-Type"] == daf_response["Content-Type"]
        assert b"debug me" in daf_response.content


async def differential_client_get(view: Any) -> Any:
    from daf_drf.test import AsyncAPIClient

    with override_settings(ROOT_URLCONF=_single_urlconf(view)):
        return await AsyncAPIClient(raise_request_exception=False).get("/view/")


def _single_urlconf(view: Any) -> Any:
    import types

    module = types.ModuleType("tests.test_exceptions_single")
    module.urlpatterns = [path("view/", view)]  # type: ignore[attr-defined]
    return module


# --- EXCEPTION_HANDLER: sync, async, per request ----------------------------------------------


def audit_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A sync handler doing ORM work: daf_drf must run it in a thread."""
    AuditEntry.objects.create(message=f"{type(exc).__name__}: {exc}")
    response = drf_views.exception_handler(exc, context)
    if response is not None:
        response["X-Audited"] = str(AuditEntry.objects.count())
    return response


async def async_teapot_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """An async handler: awaited on the loop."""
    return Response({"handled_by": "async", "view": type(context["view"]).__name__}, status=418)


async def async_declining_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    return None


def sync_marker_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    return Response({"handled_by": "mutated api_settings"}, status=409)


class NotFoundView(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        raise exceptions.NotFound("nothing here")


urlpatterns = [path("missing/", NotFoundView.as_view())]


@override_settings(ROOT_URLCONF=__name__)
class SyncExceptionHandlerTests(TestCase):
    @override_settings(REST_FRAMEWORK={"EXCEPTION_HANDLER": f"{__name__}.audit_handler"})
    async def test_sync_handler_may_use_the_orm(self) -> None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
        response = await self.async_client.get("/missing/")
        assert response.status_code == 404
        assert response["X-Audited"] == "1"
        entry = await AuditEntry.objects.aget()
        assert entry.message == "NotFound: nothing here"


@override_settings(ROOT_URLCONF=__name__)
class ExceptionHandlerSettingTests(SimpleTestCase):
    @override_settings(REST_FRAMEWORK={"EXCEPTION_HANDLER": f"{__name__}.async_teapot_handler"})
    async def test_async_handler_is_awaited(self) -> None:
        response = await self.async_client.get("/missing/")
        assert response.status_code == 418
        assert response.json() == {"handled_by": "async", "view": "NotFoundView"}

    @override_settings(REST_FRAMEWORK={"EXCEPTION_HANDLER": f"{__name__}.async_declining_handler"})
    async def test_async_handler_returning_none_lets_the_exception_propagate(self) -> None:
        with pytest.raises(exceptions.NotFound):
            await self.async_client.get("/missing/")

    async def test_handler_is_read_per_request_through_override_settings(self) -> None:
        assert (await self.async_client.get("/missing/")).status_code == 404
        with override_settings(
            REST_FRAMEWORK={"EXCEPTION_HANDLER": f"{__name__}.async_teapot_handler"}
        ):
            assert (await self.async_client.get("/missing/")).status_code == 418
        assert (await self.async_client.get("/missing/")).status_code == 404

    async def test_handler_is_read_per_request_when_api_settings_is_mutated(self) -> None:
        original = api_settings.EXCEPTION_HANDLER
        api_settings.EXCEPTION_HANDLER = sync_marker_handler
        try:
            response = await self.async_client.get("/missing/")
        finally:
            api_settings.EXCEPTION_HANDLER = original
        assert response.status_code == 409
        assert (await self.async_client.get("/missing/")).status_code == 404


# --- problem details (RFC 9457) ------------------------------------------------------------


class ProblemView(APIView):
    authentication_classes = [TokenAuthentication]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    def get_exception_handler(self) -> Any:
        return problem_details_handler

    async def get(self, request: Any) -> Response:
        kind = request.query_params.get("kind")
        if kind == "validation":
            raise exceptions.ValidationError({"name": ["This field is required."]})
        if kind == "throttled":
            raise exceptions.Throttled(wait=30)
        if kind == "unauthenticated":
            raise exceptions.NotAuthenticated()
        if kind == "http404":
            raise Http404()
        if kind == "crash":
            raise ZeroDivisionError("division by zero")
        raise exceptions.PermissionDenied("You shall not pass.", code="gandalf")


urlpatterns += [path("problem/", ProblemView.as_view())]


@override_settings(ROOT_URLCONF=__name__)
class ProblemDetailsTests(SimpleTestCase):
    async def test_answers_application_problem_json(self) -> None:
        response = await self.async_client.get("/problem/")
        assert response["Content-Type"] == "application/problem+json"

    async def test_body_has_rfc_9457_members(self) -> None:
        response = await self.async_client.get("/problem/")
        assert response.status_code == 403
        assert response.json() == {
            "type": "about:blank",
            "title": "Forbidden",
            "status": 403,
            "detail": "You shall not pass.",
            "instance": "/problem/",
            "code": "gandalf",
        }

    async def test_validation_errors_are_an_errors_extension_member(self) -> None:
        response = await self.async_client.get("/problem/?kind=validation")
        body = response.json()
        assert body["status"] == 400
        assert body["title"] == "Bad Request"
        assert body["detail"] == "Invalid input."
        assert body["code"] == "invalid"
        assert body["errors"] == {"name": ["This field is required."]}

    async def test_keeps_drfs_headers(self) -> None:
        throttled = await self.async_client.get("/problem/?kind=throttled")
        assert throttled["Retry-After"] == "30"
        unauthenticated = await self.async_client.get("/problem/?kind=unauthenticated")
        assert unauthenticated.status_code == 401
        assert unauthenticated["WWW-Authenticate"] == "Token"

    async def test_django_http404_becomes_a_problem_too(self) -> None:
        response = await self.async_client.get("/problem/?kind=http404")
        assert response.json()["title"] == "Not Found"
        assert response.json()["code"] == "not_found"

    async def test_unhandled_exceptions_still_propagate(self) -> None:
        with pytest.raises(ZeroDivisionError):
            await self.async_client.get("/problem/?kind=crash")

    async def test_html_clients_get_the_browsable_api_not_a_mislabelled_body(self) -> None:
        response = await self.async_client.get("/problem/", headers={"Accept": "text/html"})
        assert response["Content-Type"].startswith("text/html")


class DRFProblemView(drf_views.APIView):
    """A view still on DRF, answering with daf_drf's problem details handler."""

    authentication_classes: list[Any] = []

    def get_exception_handler(self) -> Any:
        return problem_details_handler

    def get(self, request: Any) -> Response:
        raise exceptions.NotFound("No such order.")


urlpatterns += [path("drf-problem/", DRFProblemView.as_view())]


@override_settings(ROOT_URLCONF=__name__)
class ProblemDetailsOnDRFViewsTests(SimpleTestCase):
    async def test_a_view_still_on_drf_answers_problem_details(self) -> None:
        response = await self.async_client.get(
            "/drf-problem/", headers={"accept": "application/json"}
        )
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["detail"] == "No such order."
        assert response.json()["code"] == "not_found"


async def user_reading_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A project's async handler that records who hit the error."""
    response = drf_views.exception_handler(exc, context)
    if response is not None:
        response["X-User"] = str(context["request"].user)
    return response


class NegotiationFailureView(APIView):
    renderer_classes = [JSONRenderer]

    def get_exception_handler(self) -> Any:
        return user_reading_handler

    async def get(self, request: Any) -> Response:
        return Response({})


urlpatterns += [path("not-acceptable/", NegotiationFailureView.as_view())]


@override_settings(ROOT_URLCONF=__name__)
class HandlerBeforeAuthenticationTests(SimpleTestCase):
    async def test_a_handler_reading_the_user_before_authentication_answers_like_drf(
        self,
    ) -> None:
        # Negotiation fails before authentication: DRF's lazy `request.user` authenticates
        # when the handler reads it; daf_drf does the same instead of raising UserNotLoaded.
        response = await self.async_client.get("/not-acceptable/", headers={"accept": "text/xml"})
        assert response.status_code == 406
        assert response["X-User"] == "AnonymousUser"


def test_drf_helpers_are_re_exported_for_the_import_swap() -> None:
    # `from rest_framework.views import exception_handler` in a custom handler, and
    # `handler500 = "rest_framework.exceptions.server_error"`, keep working after the swap.
    from rest_framework import exceptions as drf_exceptions
    from rest_framework import views as drf_views

    from daf_drf import exceptions as daf_exceptions
    from daf_drf import views as daf_views

    for name in ("exception_handler", "set_rollback", "get_view_name", "get_view_description"):
        assert getattr(daf_views, name) is getattr(drf_views, name)
    for name in ("bad_request", "server_error"):
        assert getattr(daf_exceptions, name) is getattr(drf_exceptions, name)
