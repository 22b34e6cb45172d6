"""
Thread hops per request, counted through Django's real ASGI handler.

Every `sync_to_async` call is counted (`tests.support.hops.ThreadHops`) and split into hops made
inside a daf_drf view's `dispatch` and hops made by Django around it. Django's handler hops on
its own for any async view (`request_started` receivers, `response.close`): that is the
baseline, measured with a plain Django `async def` view. The claims:

- a daf_drf view whose hooks are all async, or pure, makes **zero** hops inside the view;
- a sync hook that may do I/O costs exactly one hop (a permission, an exception handler);
- around the view, daf_drf adds nothing to Django's baseline except, honestly counted, the
  hop Django itself makes to call the sync `render()` of DRF's `Response` (a
  `SimpleTemplateResponse`), which issue 10 removes.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from django.contrib.auth.models import User
from django.http import JsonResponse
from django.test import SimpleTestCase, override_settings
from django.urls import path
from rest_framework import exceptions, permissions, throttling
from rest_framework.authentication import BaseAuthentication
from rest_framework.response import Response

from daf_drf.views import APIView
from tests.asgi_client import asgi_request
from tests.support.hops import ThreadHops


class AsyncHeaderAuthentication(BaseAuthentication):
    async def authenticate(self, request: Any) -> tuple[Any, None] | None:
        name = request.headers.get("X-User")
        return (User(username=name), None) if name else None

    def authenticate_header(self, request: Any) -> str:
        return "X-User"


class AsyncPermission(permissions.BasePermission):
    async def has_permission(self, request: Any, view: Any) -> bool:
        return True


class AsyncThrottle(throttling.BaseThrottle):
    async def aallow_request(self, request: Any, view: Any) -> bool:
        return True

    def allow_request(self, request: Any, view: Any) -> bool:  # DRF's sync call sites
        return True


class SyncPermissionMayDoIO(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return True


async def async_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    return Response({"handled": type(exc).__name__}, status=404)


def sync_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    return Response({"handled": threading.current_thread().name}, status=404)


async def plain_django_view(request: Any) -> JsonResponse:
    # The status is a parameter: Django's handler hops once more to log a 4xx/5xx response.
    return JsonResponse({"ok": True}, status=int(request.GET.get("status", 200)))


class AllAsync(APIView):
    authentication_classes = [AsyncHeaderAuthentication]
    permission_classes = [AsyncPermission, permissions.IsAuthenticated]
    throttle_classes = [AsyncThrottle]

    async def get(self, request: Any) -> Response:
        return Response({"user": request.user.username})


class AllAsyncRaising(AllAsync):
    def get_exception_handler(self) -> Any:
        return async_exception_handler

    async def get(self, request: Any) -> Response:
        raise exceptions.NotFound()


class PureDrfHooks(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [permissions.AllowAny, permissions.IsAuthenticatedOrReadOnly]

    async def get(self, request: Any) -> Response:
        if "fail" in request.query_params:
            raise exceptions.PermissionDenied()  # DRF's default handler: pure, inline
        return Response({"ok": True})


class SyncPermission(AllAsync):
    permission_classes = [AsyncPermission, SyncPermissionMayDoIO]


class SyncHandler(AllAsyncRaising):
    def get_exception_handler(self) -> Any:
        return sync_exception_handler


urlpatterns = [
    path("django/", plain_django_view),
    path("all-async/", AllAsync.as_view()),
    path("all-async-raising/", AllAsyncRaising.as_view()),
    path("pure/", PureDrfHooks.as_view()),
    path("sync-permission/", SyncPermission.as_view()),
    path("sync-handler/", SyncHandler.as_view()),
]

USER = [("X-User", "ada")]


async def measure(url: str, query: str = "") -> tuple[ThreadHops, int | None]:
    with ThreadHops() as hops:
        result = await asgi_request("GET", url, headers=USER, query=query)
    return hops, result.status


def extra_outside(hops: ThreadHops, baseline: ThreadHops) -> Counter[str]:
    return Counter(hops.names(inside=False)) - Counter(baseline.names(inside=False))


@override_settings(ROOT_URLCONF=__name__)
class ThreadHopTests(SimpleTestCase):
    async def assert_only_drfs_render_hop_outside(self, hops: ThreadHops, status: int) -> None:
        baseline, _ = await measure("/django/", f"status={status}")
        extra = extra_outside(hops, baseline)
        assert all(name.endswith(".render") for name in extra), extra
        assert sum(extra.values()) <= 1, extra

    async def test_plain_django_async_view_baseline_makes_no_hop_inside_a_daf_drf_view(
        self,
    ) -> None:
        baseline, status = await measure("/django/")
        assert status == 200
        assert baseline.inside_views == 0
        assert baseline.outside_views >= 1  # Django's own signal / middleware / close hops

    async def test_all_async_hooks_make_zero_hops_inside_the_view(self) -> None:
        hops, status = await measure("/all-async/")
        assert status == 200
        assert hops.inside_views == 0, hops.calls

    async def test_all_async_hooks_add_only_djangos_render_hop_to_the_baseline(self) -> None:
        hops, _ = await measure("/all-async/")
        await self.assert_only_drfs_render_hop_outside(hops, 200)

    async def test_async_exception_handler_makes_zero_hops_inside_the_view(self) -> None:
        hops, status = await measure("/all-async-raising/")
        assert status == 404
        assert hops.inside_views == 0, hops.calls
        await self.assert_only_drfs_render_hop_outside(hops, 404)

    async def test_drfs_pure_permissions_and_default_handler_make_zero_hops(self) -> None:
        for query in ("", "fail=1"):
            hops, status = await measure("/pure/", query)
            assert status == (403 if query else 200)
            assert hops.inside_views == 0, hops.calls

    async def test_a_sync_permission_that_may_do_io_costs_exactly_one_hop(self) -> None:
        hops, status = await measure("/sync-permission/")
        assert status == 200
        assert hops.names(inside=True) == ["SyncPermissionMayDoIO.has_permission"]

    async def test_a_sync_exception_handler_costs_exactly_one_hop(self) -> None:
        with ThreadHops() as hops:
            result = await asgi_request("GET", "/sync-handler/", headers=USER)
        assert result.status == 404
        assert hops.inside_views == 1, hops.calls
        assert result.json()["handled"] != threading.current_thread().name
