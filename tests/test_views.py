"""`daf_drf.views.APIView`: the async dispatch, checked against DRF's own `APIView`."""

from __future__ import annotations

import functools
from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from django.test import SimpleTestCase, override_settings
from django.urls import path
from rest_framework import exceptions, permissions, throttling
from rest_framework import views as drf_views
from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from compat.differential import assert_same_response
from daf_drf.exceptions import UserNotLoaded
from daf_drf.views import APIView, check_async_handlers
from tests.support.hops import ThreadHops


class Items(APIView):
    """Every handler echoes the method, the body and the URL kwargs."""

    authentication_classes: list[Any] = []

    async def _answer(self, request: Any, **kwargs: Any) -> Response:
        return Response({"method": request.method, "data": request.data, "kwargs": kwargs})

    get = post = put = patch = delete = _answer


class DrfItems(drf_views.APIView):
    """Every handler echoes the method, the body and the URL kwargs."""

    authentication_classes: list[Any] = []

    def _answer(self, request: Any, **kwargs: Any) -> Response:
        return Response({"method": request.method, "data": request.data, "kwargs": kwargs})

    get = post = put = patch = delete = _answer


class JsonOnly(APIView):
    authentication_classes: list[Any] = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    async def post(self, request: Any) -> Response:
        return Response(request.data)


class DrfJsonOnly(drf_views.APIView):
    authentication_classes: list[Any] = []
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]

    def post(self, request: Any) -> Response:
        return Response(request.data)


class ReadOnly(APIView):
    """A view that only reads."""

    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        return Response({"ok": True})


class DrfReadOnly(drf_views.APIView):
    """A view that only reads."""

    authentication_classes: list[Any] = []

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class LazyAuth(APIView):
    """DRF's lazy-authentication idiom: `perform_authentication` does nothing."""

    authentication_classes = [TokenAuthentication]

    def perform_authentication(self, request: Any) -> None:
        pass

    async def get(self, request: Any) -> Response:
        if request.query_params.get("via") == "auser":
            user = await request.auser()
            return Response({"authenticated": bool(user.is_authenticated)})
        return Response({"user": str(request.user)})


class LazyAuthRequired(LazyAuth):
    permission_classes = [permissions.IsAuthenticated]


class NeverAllowed(permissions.BasePermission):
    """Denies without reading `request.user`."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return False


class DrfLazyDenied(drf_views.APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [NeverAllowed]

    def perform_authentication(self, request: Any) -> None:
        pass

    def get(self, request: Any) -> Response:
        return Response()


class LazyDenied(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [NeverAllowed]

    def perform_authentication(self, request: Any) -> None:
        pass

    async def get(self, request: Any) -> Response:
        return Response()


def async_check(func: Any) -> Any:
    """A decorator that hides that the check is a coroutine function (a sync wrapper)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


class DecoratedAsyncDeny(permissions.BasePermission):
    message = "Decorated async permission said no."

    @async_check
    async def has_permission(self, request: Any, view: Any) -> bool:
        return False


class Denied(ReadOnly):
    permission_classes = [DecoratedAsyncDeny]


class SyncInitial(ReadOnly):
    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        request.seen_by_initial = True

    async def get(self, request: Any) -> Response:
        return Response({"initial": getattr(request, "seen_by_initial", False)})


class AsyncInitial(ReadOnly):
    async def ainitial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        await super().ainitial(request, *args, **kwargs)
        request.seen_by_initial = True

    async def get(self, request: Any) -> Response:
        return Response({"initial": getattr(request, "seen_by_initial", False)})


class SyncCheckPermissions(ReadOnly):
    def check_permissions(self, request: Any) -> None:
        raise exceptions.PermissionDenied("Overridden check_permissions denies.")


class SyncCheckThrottles(ReadOnly):
    def check_throttles(self, request: Any) -> None:
        self.throttled(request, 7)


class Throttle(throttling.BaseThrottle):
    allowed = True
    seconds: float | None = None

    def allow_request(self, request: Any, view: Any) -> bool:
        view.throttles_seen = [*getattr(view, "throttles_seen", []), type(self).__name__]
        return self.allowed

    def wait(self) -> float | None:
        return self.seconds


def throttle(name: str, allowed: bool, seconds: float | None) -> type[Throttle]:
    return type(name, (Throttle,), {"allowed": allowed, "seconds": seconds, "inline_safe": True})


class ManyThrottles(ReadOnly):
    throttle_classes = [
        throttle("Slow", False, 3.2),
        throttle("Passing", True, None),
        throttle("Slower", False, 11.1),
        throttle("Unknown", False, None),
    ]


class SyncHandleException(ReadOnly):
    def handle_exception(self, exc: Exception) -> Any:
        response = super().handle_exception(exc)
        response["X-Handled-By"] = "sync override"
        return response

    async def get(self, request: Any) -> Response:
        raise exceptions.NotFound("gone")


urlpatterns = [
    path("items/", Items.as_view()),
    path("items/<int:pk>/", Items.as_view()),
    path("lazy/", LazyAuth.as_view()),
    path("lazy-required/", LazyAuthRequired.as_view()),
    path("denied/", Denied.as_view()),
    path("sync-initial/", SyncInitial.as_view()),
    path("async-initial/", AsyncInitial.as_view()),
    path("sync-check-permissions/", SyncCheckPermissions.as_view()),
    path("sync-check-throttles/", SyncCheckThrottles.as_view()),
    path("throttles/", ManyThrottles.as_view()),
    path("sync-handle-exception/", SyncHandleException.as_view()),
]


# --- as_view and class definition ---------------------------------------------------------


def test_as_view_returns_a_coroutine_function() -> None:
    assert iscoroutinefunction(Items.as_view())


def test_as_view_is_csrf_exempt_like_drf() -> None:
    assert Items.as_view().csrf_exempt is True


def test_as_view_opts_out_of_login_required_middleware_like_drf() -> None:
    assert Items.as_view().login_required is False


def test_as_view_keeps_drfs_cls_and_initkwargs() -> None:
    view = Items.as_view(renderer_classes=[JSONRenderer])
    assert view.cls is Items
    assert view.initkwargs == {"renderer_classes": [JSONRenderer]}


def test_a_view_without_handlers_is_still_async() -> None:
    class Empty(APIView):
        pass

    assert Empty.view_is_async is True
    assert iscoroutinefunction(Empty.as_view())


def test_async_api_view_is_the_same_class() -> None:
    with pytest.warns(DeprecationWarning, match="AsyncAPIView is deprecated"):
        from daf_drf.views import AsyncAPIView
    assert AsyncAPIView is APIView


def test_subclassing_the_deprecated_name_warns() -> None:
    from daf_drf import views

    with pytest.warns(DeprecationWarning, match="Use daf_drf.views.APIView"):

        class Legacy(views.AsyncAPIView):  # type: ignore[misc]
            pass

    assert issubclass(Legacy, APIView)


def test_unknown_names_are_still_attribute_errors() -> None:
    from daf_drf import views

    with pytest.raises(AttributeError, match="no attribute 'AsyncApiView'"):
        views.AsyncApiView  # noqa: B018


def test_sync_handler_is_a_type_error_naming_class_and_method() -> None:
    with pytest.raises(TypeError) as info:

        class Legacy(APIView):
            def get(self, request: Any) -> Response:
                return Response()

    message = str(info.value)
    assert "Legacy.get()" in message
    assert "async def" in message
    assert "rest_framework.views.APIView" in message


def test_sync_handler_inherited_from_a_mixin_is_refused_too() -> None:
    class SyncMixin:
        def put(self, request: Any) -> Response:
            return Response()

    with pytest.raises(TypeError, match=r"Mixed\.put\(\)"):

        class Mixed(SyncMixin, APIView):
            pass


def test_drfs_sync_options_handler_is_allowed() -> None:
    class WithSyncOptions(APIView):
        def options(self, request: Any, *args: Any, **kwargs: Any) -> Response:
            return Response({"custom": True})

    assert WithSyncOptions.as_view() is not None


def test_check_async_handlers_accepts_explicit_names() -> None:
    class Plain:
        def get(self) -> None: ...

    with pytest.raises(TypeError, match=r"Plain\.get\(\)"):
        check_async_handlers(Plain, ["get"])
    check_async_handlers(Plain, ["post"])


# --- the request cycle --------------------------------------------------------------------


@override_settings(ROOT_URLCONF=__name__)
class DispatchTests(SimpleTestCase):
    async def test_each_method_reaches_its_async_handler(self) -> None:
        for method in ("get", "post", "put", "patch", "delete"):
            response = await getattr(self.async_client, method)(
                "/items/", {"n": 1}, content_type="application/json"
            )
            assert response.status_code == 200, method
            assert response.json()["method"] == method.upper()

    async def test_body_is_parsed_by_drfs_parsers(self) -> None:
        response = await self.async_client.post(
            "/items/", {"n": [1, 2]}, content_type="application/json"
        )
        assert response.json()["data"] == {"n": [1, 2]}

    async def test_url_kwargs_reach_the_handler(self) -> None:
        response = await self.async_client.get("/items/7/")
        assert response.json()["kwargs"] == {"pk": 7}

    async def test_head_runs_get_and_sends_no_body(self) -> None:
        response = await self.async_client.head("/items/")
        assert response.status_code == 200
        assert response.content == b""
        assert response["Content-Type"] == "application/json"

    async def test_get_answers_like_drf(self) -> None:
        await assert_same_response(DrfItems.as_view(), Items.as_view(), "GET")

    async def test_head_answers_like_drf(self) -> None:
        await assert_same_response(DrfItems.as_view(), Items.as_view(), "HEAD")

    async def test_post_put_patch_delete_answer_like_drf(self) -> None:
        for method in ("POST", "PUT", "PATCH", "DELETE"):
            await assert_same_response(
                DrfItems.as_view(), Items.as_view(), method, data={"a": 1}, format="json"
            )

    async def test_options_metadata_is_drfs(self) -> None:
        # Mount both under the same class name, since the name is part of the metadata.
        drf = type("Reader", (DrfReadOnly,), {"__doc__": "Reads."})
        daf = type("Reader", (ReadOnly,), {"__doc__": "Reads."})
        outcome = await assert_same_response(drf.as_view(), daf.as_view(), "OPTIONS")
        assert outcome.status == 200
        assert b'"name":"Reader"' in outcome.body

    async def test_options_without_a_metadata_class_is_405_like_drf(self) -> None:
        drf = type("NoMeta", (DrfReadOnly,), {"metadata_class": None})
        daf = type("NoMeta", (ReadOnly,), {"metadata_class": None})
        outcome = await assert_same_response(drf.as_view(), daf.as_view(), "OPTIONS")
        assert outcome.status == 405

    async def test_a_projects_sync_options_runs_in_one_hop(self) -> None:
        class CustomOptions(ReadOnly):
            def options(self, request: Any, *args: Any, **kwargs: Any) -> Response:
                return Response({"custom": True})

        with ThreadHops() as hops:
            outcome = await assert_same_response(
                type("Custom", (DrfReadOnly,), {"options": CustomOptions.options}).as_view(),
                CustomOptions.as_view(),
                "OPTIONS",
            )
        assert outcome.body == b'{"custom":true}'
        inside = hops.names(inside=True)
        assert len(inside) == 1
        assert inside[0].endswith("CustomOptions.options")

    async def test_unknown_method_is_405_with_drfs_allow_header(self) -> None:
        outcome = await assert_same_response(DrfReadOnly.as_view(), ReadOnly.as_view(), "POST")
        assert outcome.status == 405
        assert outcome.headers["Allow"] == "GET, HEAD, OPTIONS"

    async def test_a_method_outside_http_method_names_is_405_like_drf(self) -> None:
        outcome = await assert_same_response(DrfReadOnly.as_view(), ReadOnly.as_view(), "TRACE")
        assert outcome.status == 405

    async def test_unacceptable_accept_header_is_406_like_drf(self) -> None:
        outcome = await assert_same_response(
            DrfReadOnly.as_view(),
            ReadOnly.as_view(),
            "GET",
            headers={"Accept": "application/xml"},
        )
        assert outcome.status == 406

    async def test_unsupported_media_type_is_415_like_drf(self) -> None:
        outcome = await assert_same_response(
            DrfJsonOnly.as_view(),
            JsonOnly.as_view(),
            "POST",
            data="a=1",
            content_type="text/plain",
        )
        assert outcome.status == 415

    async def test_malformed_json_is_a_400_parse_error_like_drf(self) -> None:
        outcome = await assert_same_response(
            DrfJsonOnly.as_view(),
            JsonOnly.as_view(),
            "POST",
            data='{"a": ',
            content_type="application/json",
        )
        assert outcome.status == 400
        assert b"JSON parse error" in outcome.body

    async def test_vary_accept_is_sent_like_drf(self) -> None:
        outcome = await assert_same_response(DrfReadOnly.as_view(), ReadOnly.as_view(), "GET")
        assert outcome.headers["Vary"] == "Accept"


# --- permissions, throttles, authentication ----------------------------------------------


@override_settings(ROOT_URLCONF=__name__)
class ChecksTests(SimpleTestCase):
    async def test_decorated_async_permission_returning_false_denies(self) -> None:
        response = await self.async_client.get("/denied/")
        assert response.status_code == 403
        assert response.json() == {"detail": "Decorated async permission said no."}

    async def test_every_throttle_is_evaluated_and_the_longest_wait_wins(self) -> None:
        response = await self.async_client.get("/throttles/")
        assert response.status_code == 429
        assert response["Retry-After"] == "12"
        assert "12 seconds" in response.json()["detail"]

    async def test_sync_check_permissions_override_is_honoured(self) -> None:
        response = await self.async_client.get("/sync-check-permissions/")
        assert response.status_code == 403
        assert response.json() == {"detail": "Overridden check_permissions denies."}

    async def test_sync_check_throttles_override_is_honoured(self) -> None:
        response = await self.async_client.get("/sync-check-throttles/")
        assert response.status_code == 429
        assert response["Retry-After"] == "7"

    async def test_sync_initial_override_runs_in_one_thread_hop(self) -> None:
        with ThreadHops() as hops:
            response = await self.async_client.get("/sync-initial/")
        assert response.json() == {"initial": True}
        assert hops.inside_views == 1

    async def test_async_initial_override_runs_on_the_loop(self) -> None:
        with ThreadHops() as hops:
            response = await self.async_client.get("/async-initial/")
        assert response.json() == {"initial": True}
        assert hops.inside_views == 0

    async def test_sync_handle_exception_override_calls_the_async_default_handler(self) -> None:
        with (
            override_settings(
                REST_FRAMEWORK={"EXCEPTION_HANDLER": "daf_drf.exceptions.exception_handler"}
            ),
            pytest.warns(DeprecationWarning, match="exception_handler is deprecated"),
        ):
            response = await self.async_client.get("/sync-handle-exception/")
        assert response.status_code == 404
        assert response["X-Handled-By"] == "sync override"
        assert response.json() == {"detail": "gone"}


@override_settings(ROOT_URLCONF=__name__)
class LazyAuthenticationTests(SimpleTestCase):
    async def test_reading_request_user_in_a_handler_raises_user_not_loaded(self) -> None:
        with pytest.raises(UserNotLoaded, match=r"await request\.auser\(\)"):
            await self.async_client.get("/lazy/")

    async def test_awaiting_auser_authenticates_lazily(self) -> None:
        response = await self.async_client.get("/lazy/?via=auser")
        assert response.json() == {"authenticated": False}

    async def test_a_denial_before_authentication_authenticates_to_pick_401_like_drf(
        self,
    ) -> None:
        outcome = await assert_same_response(DrfLazyDenied.as_view(), LazyDenied.as_view())
        assert outcome.status == 401
        assert outcome.headers["WWW-Authenticate"] == "Token"

    async def test_a_permission_reading_user_authenticates_on_demand(self) -> None:
        response = await self.async_client.get("/lazy-required/?via=auser")
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
