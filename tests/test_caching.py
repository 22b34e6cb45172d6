"""
Django's `cache_page` on daf_drf views, as docs/caching.md shows it: the first request runs the
handler and stores the rendered response, the next one is answered from the cache.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.test import SimpleTestCase, override_settings
from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.cache import cache_page
from rest_framework.response import Response

from daf_drf import viewsets
from daf_drf.test import AsyncAPIClient
from daf_drf.views import APIView

calls: list[str] = []


class CachedGet(APIView):
    @method_decorator(cache_page(60))
    async def get(self, request: Any) -> Response:
        calls.append("get")
        return Response({"calls": len(calls)})


@method_decorator(cache_page(60), name="dispatch")
class CachedDispatch(APIView):
    async def get(self, request: Any) -> Response:
        calls.append("dispatch")
        return Response({"calls": len(calls)})


class CachedListViewSet(viewsets.ViewSet):
    @method_decorator(cache_page(60))
    async def list(self, request: Any) -> Response:
        calls.append("list")
        return Response({"calls": len(calls)})


urlpatterns = [
    path("cached-get/", CachedGet.as_view()),
    path("cached-dispatch/", CachedDispatch.as_view()),
    path("cached-list/", CachedListViewSet.as_view({"get": "list"})),
]

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@override_settings(ROOT_URLCONF=__name__, CACHES=LOCMEM)
class CachePageTests(SimpleTestCase):
    client_class = AsyncAPIClient

    def setUp(self) -> None:
        calls.clear()
        cache.clear()

    async def test_cache_page_on_an_async_handler_serves_the_second_request_from_the_cache(
        self,
    ) -> None:
        first = await self.client.get("/cached-get/")
        second = await self.client.get("/cached-get/")
        assert first.json() == second.json() == {"calls": 1}
        assert calls == ["get"]
        assert "max-age=60" in second["Cache-Control"]

    async def test_cache_page_on_dispatch_caches_the_finalized_response(self) -> None:
        first = await self.client.get("/cached-dispatch/")
        second = await self.client.get("/cached-dispatch/")
        assert first.content == second.content == b'{"calls":1}'
        assert second["Content-Type"] == "application/json"
        assert calls == ["dispatch"]

    async def test_cache_page_on_a_viewset_action(self) -> None:
        first = await self.client.get("/cached-list/")
        second = await self.client.get("/cached-list/")
        assert first.json() == second.json() == {"calls": 1}
        assert calls == ["list"]
