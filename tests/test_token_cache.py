"""
`DAF_DRF["TOKEN_CACHE_TIMEOUT"]`: valid tokens of daf_drf's `TokenAuthentication` served from
an in-process cache, without a query or a thread hop; revocation through the ORM honoured at
once in this process, and everywhere within the timeout.

Requests go through Django's async request path (`AsyncClient`) for daf_drf views and the
sync one (`Client`) for DRF views, with `DJANGO_ALLOW_ASYNC_UNSAFE` unset.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db.backends import utils as db_utils
from django.test import TransactionTestCase, override_settings
from django.urls import path
from rest_framework import exceptions
from rest_framework.authtoken.models import Token
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView as DRFAPIView

from daf_drf import _token_cache, authentication
from daf_drf.views import APIView
from tests.support.hops import ThreadHops


class WhoAmI(APIView):
    authentication_classes = [authentication.TokenAuthentication]
    permission_classes = [IsAuthenticated]

    async def get(self, request: Any) -> Response:
        user = request.user
        body = {"user": user.username, "first_name": user.first_name}
        # A view that changes its request's user must not change another request's.
        user.first_name = "changed by a view"
        return Response(body)


class DRFWhoAmI(DRFAPIView):
    authentication_classes = [authentication.TokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request: Any) -> Response:
        return Response({"user": request.user.username})


class Expiring(authentication.TokenAuthentication):
    """A project's sync override: it runs on every request, cache or not."""

    calls = 0

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        type(self).calls += 1
        user, token = super().authenticate_credentials(key)
        if user.username == "expired":
            raise exceptions.AuthenticationFailed("Token has expired.")
        return user, token


class ExpiringView(WhoAmI):
    authentication_classes = [Expiring]


urlpatterns = [
    path("daf/", WhoAmI.as_view()),
    path("drf/", DRFWhoAmI.as_view()),
    path("expiring/", ExpiringView.as_view()),
]

CACHED = {"TOKEN_CACHE_TIMEOUT": 60}


class Queries(list[str]):
    """SQL run by any thread while the block runs (the ORM's `aget` queries in a thread)."""


@contextlib.contextmanager
def count_queries() -> Iterator[Queries]:
    seen = Queries()
    original = db_utils.CursorWrapper.execute

    def execute(self: Any, sql: str, params: Any = None) -> Any:
        seen.append(sql)
        return original(self, sql, params)

    db_utils.CursorWrapper.execute = execute  # type: ignore[method-assign,assignment]
    try:
        yield seen
    finally:
        db_utils.CursorWrapper.execute = original  # type: ignore[method-assign]


def authz(key: str) -> dict[str, str]:
    return {"Authorization": f"Token {key}"}


@override_settings(ROOT_URLCONF=__name__)
class TokenCacheTests(TransactionTestCase):
    def setUp(self) -> None:
        _token_cache.clear()
        self.user = User.objects.create_user("alice", first_name="Alice")
        self.token = Token.objects.create(user=self.user)
        self.addCleanup(_token_cache.clear)

    async def get(self, url: str, key: str | None = None) -> tuple[Any, int, list[str]]:
        """Status, queries and thread hops of one request."""
        with ThreadHops() as hops, count_queries() as queries:
            response = await self.async_client.get(url, headers=authz(key or self.token.key))
        return response, len(queries), hops.names(inside=True)

    async def test_off_by_default_every_request_reads_the_token_as_drf_does(self) -> None:
        for _ in range(2):
            response, queries, hops = await self.get("/daf/")
            assert response.status_code == 200
            assert queries == 1
            assert hops == ["QuerySet.get"]

    @override_settings(DAF_DRF=CACHED)
    async def test_cached_token_needs_no_query_and_no_thread_hop(self) -> None:
        response, queries, _ = await self.get("/daf/")
        assert (response.status_code, queries) == (200, 1)
        response, queries, hops = await self.get("/daf/")
        assert response.status_code == 200
        assert response.json() == {"user": "alice", "first_name": "Alice"}
        assert (queries, hops) == (0, [])

    @override_settings(DAF_DRF=CACHED)
    async def test_each_request_gets_its_own_user_object(self) -> None:
        await self.get("/daf/")  # caches; the view then changes its copy of the user
        response, _, _ = await self.get("/daf/")
        assert response.json()["first_name"] == "Alice"
        response, _, _ = await self.get("/daf/")
        assert response.json()["first_name"] == "Alice"

    @override_settings(DAF_DRF=CACHED)
    async def test_deleting_the_token_revokes_it_at_once(self) -> None:
        key = self.token.key  # the token's primary key: `delete()` sets it to None
        await self.get("/daf/")
        await self.token.adelete()
        response, queries, _ = await self.get("/daf/", key)
        assert response.status_code == 401
        assert response.json() == {"detail": "Invalid token."}
        assert queries == 1

    @override_settings(DAF_DRF=CACHED)
    async def test_deleting_the_user_revokes_the_token_at_once(self) -> None:
        key = self.token.key
        await self.get("/daf/")
        await self.user.adelete()
        response, _, _ = await self.get("/daf/", key)
        assert response.status_code == 401

    @override_settings(DAF_DRF=CACHED)
    async def test_deactivating_the_user_through_save_revokes_at_once(self) -> None:
        await self.get("/daf/")
        self.user.is_active = False
        await self.user.asave()
        response, _, _ = await self.get("/daf/")
        assert response.status_code == 401
        assert response.json() == {"detail": "User inactive or deleted."}

    @override_settings(DAF_DRF={"TOKEN_CACHE_TIMEOUT": 0.2})
    async def test_changes_without_signals_are_seen_when_the_entry_expires(self) -> None:
        await self.get("/daf/")
        # QuerySet.update() sends no signal (nor does another process's change): the cached
        # entry answers until it expires, which is what the timeout bounds.
        await User.objects.filter(pk=self.user.pk).aupdate(is_active=False)
        response, queries, _ = await self.get("/daf/")
        assert (response.status_code, queries) == (200, 0)
        await asyncio.sleep(0.3)
        response, queries, _ = await self.get("/daf/")
        assert (response.status_code, queries) == (401, 1)

    @override_settings(DAF_DRF=CACHED)
    async def test_unknown_keys_are_never_cached(self) -> None:
        for _ in range(2):
            response, queries, _ = await self.get("/daf/", "not-a-token")
            assert (response.status_code, queries) == (401, 1)
        assert _token_cache.get("not-a-token") is None

    @override_settings(DAF_DRF=CACHED)
    async def test_least_recently_used_token_is_dropped_past_the_bound(self) -> None:
        other = await Token.objects.acreate(user=await User.objects.acreate(username="bob"))
        original = _token_cache.MAX_ENTRIES
        _token_cache.MAX_ENTRIES = 1
        try:
            await self.get("/daf/")
            await self.get("/daf/", other.key)
        finally:
            _token_cache.MAX_ENTRIES = original
        assert _token_cache.get(self.token.key) is None
        assert _token_cache.get(other.key) is not None

    @override_settings(DAF_DRF=CACHED)
    async def test_sync_override_of_authenticate_credentials_runs_every_time(self) -> None:
        Expiring.calls = 0
        for _ in range(2):
            response, _, _ = await self.get("/expiring/")
            assert response.status_code == 200
        assert Expiring.calls == 2
        self.user.username = "expired"
        await self.user.asave()
        response, _, _ = await self.get("/expiring/")
        assert response.json() == {"detail": "Token has expired."}

    @override_settings(DAF_DRF=CACHED)
    def test_drf_views_with_daf_drf_token_authentication_share_the_cache(self) -> None:
        with count_queries() as first:
            assert self.client.get("/drf/", headers=authz(self.token.key)).status_code == 200
        with count_queries() as second:
            response = self.client.get("/drf/", headers=authz(self.token.key))
        assert response.json() == {"user": "alice"}
        assert (len(first), len(second)) == (1, 0)
        key = self.token.key
        self.token.delete()
        assert self.client.get("/drf/", headers=authz(key)).status_code == 401

    @override_settings(DAF_DRF=CACHED)
    async def test_clear_token_cache_forgets_every_token(self) -> None:
        await self.get("/daf/")
        await sync_to_async(authentication.clear_token_cache)()
        _, queries, _ = await self.get("/daf/")
        assert queries == 1


@pytest.mark.parametrize("value", [-1, "60", True, None, [60]])
def test_a_bad_timeout_is_improperly_configured(value: object) -> None:
    with (
        override_settings(DAF_DRF={"TOKEN_CACHE_TIMEOUT": value}),
        pytest.raises(ImproperlyConfigured, match="TOKEN_CACHE_TIMEOUT"),
    ):
        _token_cache.timeout()


@pytest.mark.parametrize("value", [-1, "60", True])
def test_a_bad_timeout_fails_the_system_check(value: object) -> None:
    from django.core import checks

    with override_settings(DAF_DRF={"TOKEN_CACHE_TIMEOUT": value}):
        ids = [message.id for message in checks.run_checks()]
    assert "daf_drf.E006" in ids


def test_a_good_timeout_passes_the_system_check() -> None:
    from django.core import checks

    with override_settings(DAF_DRF={"TOKEN_CACHE_TIMEOUT": 30}):
        ids = [message.id for message in checks.run_checks()]
    assert "daf_drf.E006" not in ids
