"""`daf_drf.decorators.api_view`: DRF's `@api_view` for `async def` functions."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import iscoroutinefunction
from django.test import SimpleTestCase, override_settings
from django.urls import path
from rest_framework import decorators as drf_decorators
from rest_framework import throttling
from rest_framework.metadata import SimpleMetadata
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.schemas import AutoSchema
from rest_framework.versioning import QueryParameterVersioning

from compat.differential import Call, Clock, Differential, assert_same_response
from daf_drf.decorators import (
    api_view,
    authentication_classes,
    content_negotiation_class,
    metadata_class,
    parser_classes,
    permission_classes,
    renderer_classes,
    schema,
    throttle_classes,
    throttle_scope,
    versioning_class,
)
from daf_drf.test import AsyncAPIRequestFactory
from daf_drf.views import APIView


class DenyAll(BasePermission):
    message = "Nobody."

    def has_permission(self, request: Any, view: Any) -> bool:
        return False


class Scoped(throttling.ScopedRateThrottle):
    THROTTLE_RATES = {"uploads": "2/min"}


@api_view(["GET", "POST"])
async def hello(request: Any) -> Response:
    """Says hello."""
    return Response({"hello": request.method})


def _drf_hello() -> Any:
    # DRF's twin must carry the same function name: the OPTIONS metadata includes it.
    @drf_decorators.api_view(["GET", "POST"])
    def hello(request: Any) -> Response:
        """Says hello."""
        return Response({"hello": request.method})

    return hello


drf_hello = _drf_hello()


@api_view()
@authentication_classes([])
@permission_classes([DenyAll])
async def denied(request: Any) -> Response:
    return Response({})


@api_view(["GET"])
@authentication_classes([])
@throttle_classes([Scoped])
@throttle_scope("uploads")
async def scoped(request: Any) -> Response:
    return Response({"ok": True})


def _drf_scoped() -> Any:
    def drf_scoped(request: Any) -> Response:
        return Response({"ok": True})

    view = drf_scoped
    if hasattr(drf_decorators, "throttle_scope"):  # DRF >= 3.18
        view = drf_decorators.throttle_scope("uploads")(view)
    view = drf_decorators.throttle_classes([Scoped])(view)
    view = drf_decorators.authentication_classes([])(view)
    view = drf_decorators.api_view(["GET"])(view)
    if not hasattr(drf_decorators, "throttle_scope"):
        # DRF < 3.18 has no @throttle_scope: set on the class what 3.18's decorator sets.
        view.cls.throttle_scope = "uploads"
    return view


drf_scoped = _drf_scoped()


@api_view(["GET"])
async def with_kwargs(request: Any, pk: int) -> Response:
    return Response({"pk": pk})


urlpatterns = [
    path("hello/", hello),
    path("denied/", denied),
    path("items/<int:pk>/", with_kwargs),
]


def test_api_view_returns_an_async_daf_drf_view() -> None:
    assert iscoroutinefunction(hello)
    assert issubclass(hello.cls, APIView)


def test_the_view_class_is_named_after_the_function_like_drf() -> None:
    assert hello.cls.__name__ == "hello"
    assert hello.cls.__module__ == __name__
    assert hello.cls.__doc__ == "Says hello."


def test_http_method_names_include_options_like_drf() -> None:
    assert sorted(hello.cls.http_method_names) == sorted(drf_hello.cls.http_method_names)


def test_default_methods_are_get_only() -> None:
    assert sorted(denied.cls.http_method_names) == ["get", "options"]


def test_a_sync_function_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match=r"legacy must be `async def`.*rest_framework"):

        @api_view(["GET"])
        def legacy(request: Any) -> Response:
            return Response()


def test_missing_method_list_is_drfs_assertion_error_when_the_view_is_called() -> None:
    # DRF's own test: `@api_view` without its list decorates silently, then the "view" (the
    # inner decorator) raises when called.
    view = api_view(hello)  # type: ignore[arg-type]
    with pytest.raises(AssertionError, match=r"^@api_view missing list of allowed HTTP methods$"):
        view(AsyncAPIRequestFactory().get("/"))  # type: ignore[arg-type]


def test_a_string_instead_of_a_list_is_drfs_assertion_error() -> None:
    with pytest.raises(
        AssertionError, match=r"^@api_view expected a list of strings, received str"
    ):

        @api_view("GET")  # type: ignore[arg-type]
        async def view(request: Any) -> Response:
            return Response()


def test_api_view_misuse_is_also_a_type_error() -> None:
    with pytest.raises(TypeError, match="received str"):
        api_view("GET")(hello)  # type: ignore[arg-type]


@pytest.mark.skipif(
    not hasattr(drf_decorators, "_check_decorator_order"),
    reason="DRF's decorator-order check is new in DRF 3.17; DRF 3.16's decorators have none",
)
def test_policy_decorator_above_api_view_is_drfs_type_error() -> None:
    with pytest.raises(TypeError, match=r"@permission_classes must come after \(below\)"):

        @permission_classes([DenyAll])
        @api_view(["GET"])
        async def wrong_order(request: Any) -> Response:
            return Response()


def test_every_policy_decorator_is_copied_onto_the_view_class() -> None:
    custom_schema = AutoSchema()

    @api_view(["GET"])
    @renderer_classes([JSONRenderer])
    @parser_classes([JSONParser])
    @authentication_classes([])
    @throttle_classes([Scoped])
    @throttle_scope("uploads")
    @permission_classes([DenyAll])
    @content_negotiation_class(DefaultContentNegotiation)
    @metadata_class(SimpleMetadata)
    @versioning_class(QueryParameterVersioning)
    @schema(custom_schema)
    async def everything(request: Any) -> Response:
        return Response()

    cls = everything.cls
    assert cls.renderer_classes == [JSONRenderer]
    assert cls.parser_classes == [JSONParser]
    assert cls.authentication_classes == []
    assert cls.throttle_classes == [Scoped]
    assert cls.throttle_scope == "uploads"
    assert cls.permission_classes == [DenyAll]
    assert cls.content_negotiation_class is DefaultContentNegotiation
    assert cls.metadata_class is SimpleMetadata
    assert cls.versioning_class is QueryParameterVersioning
    assert cls.schema is custom_schema


def test_undecorated_policies_fall_back_to_apiviews() -> None:
    assert hello.cls.permission_classes == APIView.permission_classes
    assert hello.cls.throttle_scope is None


@override_settings(ROOT_URLCONF=__name__)
class ApiViewDispatchTests(SimpleTestCase):
    async def test_the_function_is_awaited_with_the_request(self) -> None:
        response = await self.async_client.post("/hello/")
        assert response.json() == {"hello": "POST"}

    async def test_url_kwargs_are_passed_to_the_function(self) -> None:
        response = await self.async_client.get("/items/42/")
        assert response.json() == {"pk": 42}

    async def test_permission_classes_decorator_is_enforced(self) -> None:
        response = await self.async_client.get("/denied/")
        assert response.status_code == 403
        assert response.json() == {"detail": "Nobody."}

    async def test_answers_like_drfs_api_view(self) -> None:
        for method in ("GET", "POST"):
            await assert_same_response(drf_hello, hello, method)

    async def test_405_allow_header_is_drfs(self) -> None:
        outcome = await assert_same_response(drf_hello, hello, "PUT")
        assert outcome.status == 405
        assert outcome.headers["Allow"]

    async def test_head_answers_like_drfs_api_view(self) -> None:
        # DRF's `@api_view(["GET"])` does not list "head" in `http_method_names`: 405.
        outcome = await assert_same_response(drf_hello, hello, "HEAD")
        assert outcome.status == 405

    async def test_options_metadata_is_drfs(self) -> None:
        outcome = await assert_same_response(drf_hello, hello, "OPTIONS")
        assert b'"name":"Hello"' in outcome.body
        assert b'"description":"Says hello."' in outcome.body

    async def test_throttle_scope_is_honoured_like_drf(self) -> None:
        differential = Differential(drf_scoped, scoped, clock=Clock(), timed=[Scoped])
        outcomes = await differential.run([Call(), Call(), Call()])
        assert [o.status for o in outcomes] == [200, 200, 429]
