"""
daf_drf.permissions: sync and async permissions, DRF's operators and adrf's, evaluated with
DRF's semantics, and never failing open.

Requests go through Django's async request path (`AsyncClient`) with
`DJANGO_ALLOW_ASYNC_UNSAFE` unset. DRF-vs-daf_drf truth tables live in
`compat/test_permissions_differential.py`; this module covers what only daf_drf has.
"""

from __future__ import annotations

from tests.adrf_support import require_adrf

require_adrf()

import asyncio
import functools
import logging
import os
import types
from typing import Any

import pytest
from adrf.permissions import AsyncBasePermission
from adrf.views import APIView as AdrfAPIView
from asgiref.sync import sync_to_async
from django.contrib.auth.models import Permission, User
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.decorators import api_view, permission_classes
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import (
    AllowAny,
    BasePermission,
    DjangoModelPermissions,
    IsAdminUser,
    IsAuthenticated,
    IsAuthenticatedOrReadOnly,
)
from rest_framework.response import Response
from rest_framework.schemas.openapi import SchemaGenerator
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView as DRFAPIView

from daf_drf import permissions as daf_permissions
from daf_drf.authentication import TokenAuthentication
from daf_drf.checks.permissions import check_async_hooks_on_drf_views
from daf_drf.hooks import inline_safe
from daf_drf.request import Request
from daf_drf.views import APIView
from tests.models import Author
from tests.support.hops import ThreadHops

CALLS: list[str] = []


def passthrough(func: Any) -> Any:
    """An ordinary decorator: the result is a plain function returning a coroutine."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def allows(request: Any) -> bool:
    return request.query_params.get("allow") == "1"


class AsyncQueryParam(BasePermission):
    message = "async says no"
    code = "async_no"

    async def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("async")
        await asyncio.sleep(0)
        return allows(request)


class DecoratedAsync(BasePermission):
    message = "decorated says no"

    @passthrough
    async def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("decorated")
        await asyncio.sleep(0)
        return allows(request)


class ReturnsAwaitable(BasePermission):
    """A sync method that returns an awaitable (a coroutine made by a helper)."""

    message = "awaitable says no"

    def has_permission(self, request: Any, view: Any) -> Any:
        CALLS.append("awaitable")
        return self._check(request)

    async def _check(self, request: Any) -> bool:
        return allows(request)


class ReturnsNestedAwaitable(BasePermission):
    async def has_permission(self, request: Any, view: Any) -> Any:
        CALLS.append("nested")
        return self._check(request)

    async def _check(self, request: Any) -> bool:
        return allows(request)


class OnlyAsyncSibling(BasePermission):
    """daf_drf's sibling convention; `has_permission` is BasePermission's (always True)."""

    async def ahas_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("sibling")
        return allows(request)


class AdrfQueryParam(AsyncBasePermission):
    async def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("adrf")
        return allows(request)


class AdrfAlways(AsyncBasePermission):
    async def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("adrf-always")
        return True


class SyncCounter(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("sync")
        return True


class SyncDeny(BasePermission):
    message = "sync says no"
    code = "sync_no"

    def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("sync-deny")
        return False


@inline_safe
class InlineDecorated(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return "x-key" in request.headers


class InlineAttribute(BasePermission):
    inline_safe = True

    def has_permission(self, request: Any, view: Any) -> bool:
        return "x-key" in request.headers


class InlineBySetting(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return "x-key" in request.headers


class ReadsUser(BasePermission):
    """Reads `request.user` in a worker thread (a sync permission that may query)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("reads-user")
        return bool(request.user.is_authenticated)


class Probe(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        return Response({"ok": True})

    async def post(self, request: Any) -> Response:
        return Response({"ok": True})


class AuthorSerializer(serializers.ModelSerializer[Author]):
    class Meta:
        model = Author
        fields = ["id", "name"]


class AuthorList(APIView, GenericAPIView[Author]):
    """A generic view, so that OPTIONS metadata checks permissions per method (DRF)."""

    authentication_classes: list[Any] = []
    queryset = Author.objects.all()
    serializer_class = AuthorSerializer

    async def get(self, request: Any) -> Response:
        return Response([])

    async def post(self, request: Any) -> Response:
        return Response({}, status=201)


def urlconf(view: Any) -> types.ModuleType:
    module = types.ModuleType("tests.test_permissions_urls")
    module.urlpatterns = [path("p/", (view))]  # type: ignore[attr-defined]
    return module


class PermissionTestCase(TestCase):
    def setUp(self) -> None:
        assert "DJANGO_ALLOW_ASYNC_UNSAFE" not in os.environ
        CALLS.clear()

    async def send(self, view: Any, method: str = "get", query: str = "", **kwargs: Any) -> Any:
        with override_settings(ROOT_URLCONF=urlconf(view)):
            return await getattr(self.async_client, method)(f"/p/{query}", **kwargs)

    async def probe(self, *permissions: Any, query: str = "", **kwargs: Any) -> Any:
        return await self.send(
            Probe.as_view(permission_classes=list(permissions)), query=query, **kwargs
        )


class TestNeverFailOpen(PermissionTestCase):
    async def test_async_permission_returning_false_denies(self) -> None:
        response = await self.probe(AsyncQueryParam)
        assert response.status_code == 403
        assert response.json() == {"detail": "async says no"}

    async def test_async_permission_returning_true_allows(self) -> None:
        assert (await self.probe(AsyncQueryParam, query="?allow=1")).status_code == 200

    async def test_decorated_async_permission_returning_false_denies(self) -> None:
        response = await self.probe(DecoratedAsync)
        assert response.status_code == 403
        assert response.json() == {"detail": "decorated says no"}
        assert CALLS == ["decorated"]

    async def test_decorated_async_permission_returning_true_allows(self) -> None:
        assert (await self.probe(DecoratedAsync, query="?allow=1")).status_code == 200

    async def test_sync_method_returning_an_awaitable_is_awaited(self) -> None:
        assert (await self.probe(ReturnsAwaitable)).status_code == 403
        assert (await self.probe(ReturnsAwaitable, query="?allow=1")).status_code == 200

    async def test_awaitable_resolving_to_an_awaitable_is_awaited_again(self) -> None:
        assert (await self.probe(ReturnsNestedAwaitable)).status_code == 403
        assert (await self.probe(ReturnsNestedAwaitable, query="?allow=1")).status_code == 200

    async def test_negated_decorated_async_permission_is_negated_not_truthy(self) -> None:
        assert (await self.probe(~DecoratedAsync, query="?allow=1")).status_code == 403
        assert (await self.probe(~DecoratedAsync)).status_code == 200

    async def test_ahas_permission_sibling_is_used_instead_of_the_inherited_default(
        self,
    ) -> None:
        assert (await self.probe(OnlyAsyncSibling)).status_code == 403
        assert CALLS == ["sibling"]


class TestOrderAndShortCircuit(PermissionTestCase):
    async def test_first_denial_stops_the_list(self) -> None:
        response = await self.probe(SyncCounter, AsyncQueryParam, SyncCounter)
        assert response.json() == {"detail": "async says no"}
        assert CALLS == ["sync", "async"]

    async def test_denying_permissions_code_reaches_the_exception(self) -> None:
        request = Request(APIRequestFactory().get("/"), authenticators=[])
        view = Probe(permission_classes=[SyncCounter, SyncDeny, AsyncQueryParam])
        view.request = request
        with pytest.raises(exceptions.PermissionDenied) as info:
            await view.acheck_permissions(request)
        assert info.value.get_codes() == "sync_no"
        assert CALLS == ["sync", "sync-deny"]

    async def test_and_stops_at_a_denying_async_left_operand(self) -> None:
        await self.probe(AsyncQueryParam & SyncCounter)
        assert CALLS == ["async"]

    async def test_or_stops_at_an_allowing_async_left_operand(self) -> None:
        await self.probe(AsyncQueryParam | SyncCounter, query="?allow=1")
        assert CALLS == ["async"]

    async def test_composite_denial_has_drfs_default_message(self) -> None:
        response = await self.probe(SyncCounter & AsyncQueryParam)
        assert response.json() == {"detail": "You do not have permission to perform this action."}


class TestAdrfInterop(PermissionTestCase):
    async def test_adrf_permission_denies_and_allows(self) -> None:
        assert (await self.probe(AdrfQueryParam)).status_code == 403
        assert (await self.probe(AdrfQueryParam, query="?allow=1")).status_code == 200

    async def test_adrf_and_short_circuits_in_declared_order(self) -> None:
        assert (await self.probe(AdrfQueryParam & AdrfAlways)).status_code == 403
        assert CALLS == ["adrf"]

    async def test_adrf_or_with_a_drf_sync_operand(self) -> None:
        assert (await self.probe(AdrfQueryParam | SyncCounter)).status_code == 200
        assert CALLS == ["adrf", "sync"]

    async def test_adrf_not(self) -> None:
        assert (await self.probe(~AdrfQueryParam)).status_code == 200
        assert (await self.probe(~AdrfQueryParam, query="?allow=1")).status_code == 403

    async def test_drf_operand_first_with_an_adrf_operand(self) -> None:
        assert (await self.probe(SyncDeny | AdrfQueryParam, query="?allow=1")).status_code == 200
        assert CALLS == ["sync-deny", "adrf"]


class TestThreadHops(PermissionTestCase):
    async def test_pure_builtins_and_async_permissions_make_no_hop(self) -> None:
        with ThreadHops() as hops:
            response = await self.probe(
                AllowAny, IsAuthenticatedOrReadOnly, AsyncQueryParam, AdrfAlways, query="?allow=1"
            )
        assert response.status_code == 200
        assert hops.names(inside=True) == []

    async def test_denial_by_a_pure_builtin_makes_no_hop(self) -> None:
        with ThreadHops() as hops:
            response = await self.probe(IsAdminUser)
        assert response.status_code == 403
        assert hops.names(inside=True) == []

    async def test_a_projects_sync_permission_runs_in_one_hop(self) -> None:
        with ThreadHops() as hops:
            await self.probe(SyncCounter, AsyncQueryParam, query="?allow=1")
        assert hops.names(inside=True) == ["SyncCounter.has_permission"]

    async def test_inline_safe_decorator_runs_inline(self) -> None:
        with ThreadHops() as hops:
            response = await self.probe(InlineDecorated, headers={"X-Key": "1"})
        assert response.status_code == 200
        assert hops.names(inside=True) == []

    async def test_inline_safe_attribute_runs_inline(self) -> None:
        with ThreadHops() as hops:
            assert (await self.probe(InlineAttribute)).status_code == 403
        assert hops.names(inside=True) == []

    async def test_inline_hooks_setting_runs_inline(self) -> None:
        dotted = f"{__name__}.InlineBySetting"
        with override_settings(DAF_DRF={"INLINE_HOOKS": [dotted]}), ThreadHops() as hops:
            assert (await self.probe(InlineBySetting, headers={"X-Key": "1"})).status_code == 200
        assert hops.names(inside=True) == []

    async def test_django_model_permissions_query_in_a_thread(self) -> None:
        user = await User.objects.acreate_user("maker", password="x")
        add = await Permission.objects.aget(codename="add_author")
        await user.user_permissions.aadd(add)
        token = await sync_to_async(
            lambda: __import__(
                "rest_framework.authtoken.models", fromlist=["Token"]
            ).Token.objects.create(user=user)
        )()
        view = AuthorList.as_view(
            permission_classes=[DjangoModelPermissions],
            authentication_classes=[TokenAuthentication],
        )
        headers = {"Authorization": f"Token {token.key}"}
        with ThreadHops() as hops:
            response = await self.send(view, "post", headers=headers)
        assert response.status_code == 201
        assert "DjangoModelPermissions.has_permission" in hops.names(inside=True)
        denied = await self.send(view, "delete", headers=headers)
        assert denied.status_code == 403  # no delete_author permission: denied before the 405


class TestLazyAuthentication(PermissionTestCase):
    async def test_inline_permission_reading_user_authenticates_once_on_the_loop(self) -> None:
        class Lazy(Probe):
            authentication_classes = [TokenAuthentication]

            def perform_authentication(self, request: Any) -> None:
                pass

        response = await self.send(Lazy.as_view(permission_classes=[SyncCounter & IsAuthenticated]))
        assert response.status_code == 401
        assert CALLS == ["sync"]

    async def test_sync_permission_reading_user_in_a_thread_works(self) -> None:
        response = await self.probe(ReadsUser)
        assert response.status_code == 403
        assert CALLS == ["reads-user"]


class TestDRFSyncCallSites(PermissionTestCase):
    """OPTIONS metadata, the browsable API and the schema generator call sync methods."""

    async def test_options_metadata_awaits_an_async_permission_that_denies_post(self) -> None:
        class PostNeedsAllow(BasePermission):
            async def has_permission(self, request: Any, view: Any) -> bool:
                CALLS.append(request.method)
                return request.method in ("GET", "OPTIONS") or allows(request)

        view = AuthorList.as_view(permission_classes=[PostNeedsAllow])
        denied = await self.send(view, "options")
        assert denied.status_code == 200
        assert "actions" not in denied.json()
        allowed = await self.send(view, "options", query="?allow=1")
        assert set(allowed.json()["actions"]) == {"POST"}
        assert CALLS == ["OPTIONS", "POST", "OPTIONS", "POST"]

    async def test_options_metadata_awaits_a_decorated_async_permission(self) -> None:
        view = AuthorList.as_view(permission_classes=[DecoratedAsync])
        allowed = await self.send(view, "options", query="?allow=1")
        assert set(allowed.json()["actions"]) == {"POST"}
        assert CALLS == ["decorated", "decorated"]

    async def test_browsable_api_form_follows_the_async_permission(self) -> None:
        class PostNeedsAllow(BasePermission):
            async def has_permission(self, request: Any, view: Any) -> bool:
                return request.method == "GET" or allows(request)

        view = AuthorList.as_view(permission_classes=[PostNeedsAllow])
        html = {"Accept": "text/html"}
        without = (await self.send(view, query="", headers=html)).content.decode()
        with_form = (await self.send(view, query="?allow=1", headers=html)).content.decode()
        assert 'id="post-object-form"' not in without
        assert 'id="post-object-form"' in with_form

    def test_schema_generator_awaits_async_permissions_outside_the_loop(self) -> None:
        class Named(AuthorList):
            pass

        patterns = [
            path("open/", Named.as_view(permission_classes=[AsyncQueryParam])),
        ]
        generator = SchemaGenerator(patterns=patterns)
        factory = APIRequestFactory()
        closed = generator.get_schema(request=Request(factory.get("/")), public=False)
        opened = generator.get_schema(request=Request(factory.get("/?allow=1")), public=False)
        assert closed is None or "/open/" not in closed.get("paths", {})
        assert "/open/" in opened["paths"]
        assert CALLS == ["async"] * 4  # GET and POST endpoints, in each schema

    async def test_async_permission_on_the_loop_thread_is_denied_not_truthy(self) -> None:
        view = Probe(permission_classes=[AsyncQueryParam])
        request = Request(APIRequestFactory().get("/?allow=1"), authenticators=[])
        await request.auser()
        with (
            self.assertLogs("daf_drf", logging.WARNING),
            pytest.raises(exceptions.PermissionDenied),
        ):
            view.check_permissions(request)
        assert CALLS == []  # the coroutine was closed, never run

    async def test_negated_async_permission_on_the_loop_thread_is_denied(self) -> None:
        view = Probe(permission_classes=[~AsyncQueryParam])
        request = Request(APIRequestFactory().get("/"), authenticators=[])
        await request.auser()
        with (
            self.assertLogs("daf_drf", logging.WARNING),
            pytest.raises(exceptions.PermissionDenied),
        ):
            view.check_permissions(request)

    async def test_async_permission_in_a_worker_thread_is_awaited(self) -> None:
        view = Probe(permission_classes=[AsyncQueryParam])
        request = Request(APIRequestFactory().get("/?allow=1"), authenticators=[])
        await request.auser()
        await sync_to_async(view.check_permissions)(request)  # no exception: granted
        assert CALLS == ["async"]

    async def test_adrf_operators_in_a_worker_thread_are_awaited_in_order(self) -> None:
        view = Probe(permission_classes=[AdrfQueryParam | AdrfAlways])
        request = Request(APIRequestFactory().get("/"), authenticators=[])
        await request.auser()
        await sync_to_async(view.check_permissions)(request)  # granted by the second operand
        assert CALLS == ["adrf", "adrf-always"]

    def test_ahas_permission_sibling_decides_at_sync_call_sites(self) -> None:
        view = Probe(permission_classes=[OnlyAsyncSibling])
        request = Request(APIRequestFactory().get("/"), authenticators=[])
        with pytest.raises(exceptions.PermissionDenied):
            view.check_permissions(request)


class OwnerOnly(BasePermission):
    message = "owners only"
    code = "not_owner"

    async def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        CALLS.append("owner")
        return bool(obj.name == request.query_params.get("name"))


class DenyView(BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("deny-view")
        return False


class TestObjectPermissions(PermissionTestCase):
    async def check(self, permission: Any, query: str, obj: Any) -> None:
        request = Request(APIRequestFactory().get("/" + query), authenticators=[])
        view = Probe(permission_classes=[permission])
        view.request = request
        await request.auser()
        await view.acheck_object_permissions(request, obj)

    async def test_async_object_permission_denies_with_its_message_and_code(self) -> None:
        with pytest.raises(exceptions.PermissionDenied) as info:
            await self.check(OwnerOnly, "?name=b", Author(name="a"))
        assert str(info.value.detail) == "owners only"
        assert info.value.get_codes() == "not_owner"

    async def test_async_object_permission_grants(self) -> None:
        await self.check(OwnerOnly, "?name=a", Author(name="a"))
        assert CALLS == ["owner"]

    async def test_or_object_permission_requires_the_operands_view_permission(self) -> None:
        # DRF #6402: DenyView's default has_object_permission (True) must not grant access.
        with pytest.raises(exceptions.PermissionDenied):
            await self.check(DenyView | OwnerOnly, "?name=b", Author(name="a"))
        assert CALLS == ["deny-view", "owner"]

    async def test_or_object_permission_grants_through_the_second_operand(self) -> None:
        await self.check(DenyView | OwnerOnly, "?name=a", Author(name="a"))

    def test_sync_call_site_object_permission_is_awaited_outside_the_loop(self) -> None:
        request = Request(APIRequestFactory().get("/?name=a"), authenticators=[])
        view = Probe(permission_classes=[OwnerOnly])
        view.check_object_permissions(request, Author(name="a"))
        with pytest.raises(exceptions.PermissionDenied):
            view.check_object_permissions(request, Author(name="b"))


def test_pure_builtins_are_listed_as_inline() -> None:
    from daf_drf.hooks import is_inline_safe

    for cls in (AllowAny, IsAuthenticated, IsAdminUser, IsAuthenticatedOrReadOnly):
        permission = cls()
        assert is_inline_safe(permission, permission.has_permission), cls
    model = DjangoModelPermissions()
    assert not is_inline_safe(model, model.has_permission)


def test_module_reexports_drf_names() -> None:
    from rest_framework import permissions as drf

    for name in ("AND", "OR", "NOT", "BasePermission", "IsAuthenticated", "SAFE_METHODS"):
        assert getattr(daf_permissions, name) is getattr(drf, name)


class LoggedOR(daf_permissions.OR):
    """A project's own operator: its override is called, not DRF's rule."""

    def has_permission(self, request: Any, view: Any) -> bool:
        CALLS.append("logged-or")
        return bool(self.op1.has_permission(request, view)) or bool(
            self.op2.has_permission(request, view)
        )


class TestProjectOperators(PermissionTestCase):
    async def test_operator_subclass_with_its_own_method_is_called_as_written(self) -> None:
        holder = daf_permissions.OperandHolder(LoggedOR, SyncDeny, SyncCounter)
        response = await self.probe(holder)
        assert response.status_code == 200
        assert CALLS == ["logged-or", "sync-deny", "sync"]


# --- system checks ----------------------------------------------------------------------------


class DRFProbe(DRFAPIView):
    authentication_classes: list[Any] = []

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class AdrfProbe(AdrfAPIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        return Response({"ok": True})


def check_ids(*mounts: Any) -> list[str]:
    module = types.ModuleType("tests.test_permissions_check_urls")
    module.urlpatterns = [path(f"v{i}/", view) for i, view in enumerate(mounts)]  # type: ignore[attr-defined]
    with override_settings(ROOT_URLCONF=module):
        return [message.id for message in check_async_hooks_on_drf_views()]


class TestSystemCheck:
    def test_async_permission_on_a_drf_view_is_e010(self) -> None:
        assert check_ids(DRFProbe.as_view(permission_classes=[AsyncQueryParam])) == ["daf_drf.E010"]

    def test_decorated_async_permission_on_a_drf_view_is_e010(self) -> None:
        assert check_ids(DRFProbe.as_view(permission_classes=[DecoratedAsync])) == ["daf_drf.E010"]

    def test_async_operand_in_a_composite_on_a_drf_view_is_e010(self) -> None:
        view = DRFProbe.as_view(permission_classes=[SyncCounter | ~AdrfQueryParam])
        assert check_ids(view) == ["daf_drf.E010"]

    def test_ahas_permission_only_on_a_drf_view_is_e010(self) -> None:
        assert check_ids(DRFProbe.as_view(permission_classes=[OnlyAsyncSibling])) == [
            "daf_drf.E010"
        ]

    def test_async_permission_on_daf_and_adrf_views_is_fine(self) -> None:
        assert (
            check_ids(
                Probe.as_view(permission_classes=[AsyncQueryParam]),
                AdrfProbe.as_view(permission_classes=[AsyncQueryParam]),
            )
            == []
        )

    def test_sync_permissions_on_a_drf_view_are_fine(self) -> None:
        view = DRFProbe.as_view(permission_classes=[SyncCounter & IsAuthenticated])
        assert check_ids(view) == []

    def test_drf_api_view_function_with_an_async_permission_is_e010(self) -> None:
        @api_view(["GET"])
        @permission_classes([AsyncQueryParam])
        def legacy(request: Any) -> Response:
            return Response({})

        assert check_ids(legacy) == ["daf_drf.E010"]

    def test_async_only_authenticator_on_a_drf_view_is_e011(self) -> None:
        class AsyncOnly(BaseAuthentication):
            async def authenticate(self, request: Any) -> None:
                return None

        view = DRFProbe.as_view(authentication_classes=[AsyncOnly, TokenAuthentication])
        assert check_ids(view) == ["daf_drf.E011"]

    def test_daf_authenticators_on_a_drf_view_are_fine(self) -> None:
        view = DRFProbe.as_view(authentication_classes=[TokenAuthentication])
        assert check_ids(view) == []
