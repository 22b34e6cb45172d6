"""
What a permission's answer means: DRF's truthiness, except for answers that are clearly a bug.

DRF grants when `has_permission` returns anything truthy. daf_drf keeps that for plain values
(`1`, a non-empty string, a user object), but an answer that is an unfinished computation (an
async generator from an `async def` with `yield`, a generator, a `concurrent.futures.Future`)
or a function that was never called is a mistake: daf_drf denies it and logs an error that
names the class, on the loop and at DRF's sync call sites alike.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from django.test import SimpleTestCase
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from daf_drf import permissions as daf_permissions
from daf_drf.test import AsyncAPIRequestFactory
from daf_drf.views import APIView


class AsyncGeneratorAnswer(BasePermission):
    async def has_permission(self, request: Any, view: Any) -> AsyncIterator[bool]:  # type: ignore[override]
        yield False


class GeneratorAnswer(BasePermission):
    def has_permission(self, request: Any, view: Any) -> Iterator[bool]:  # type: ignore[override]
        yield False


class FutureAnswer(BasePermission):
    def has_permission(self, request: Any, view: Any) -> Any:
        return concurrent.futures.Future()


class UncalledMethodAnswer(BasePermission):
    def is_owner(self) -> bool:
        return False

    def has_permission(self, request: Any, view: Any) -> Any:
        return self.is_owner


class ObjectGeneratorAnswer(BasePermission):
    def has_object_permission(self, request: Any, view: Any, obj: Any) -> Iterator[bool]:  # type: ignore[override]
        yield False


def _plain(value: Any) -> type[BasePermission]:
    class Plain(BasePermission):
        def has_permission(self, request: Any, view: Any) -> Any:
            return value

    return Plain


MISTAKES = [AsyncGeneratorAnswer, GeneratorAnswer, FutureAnswer, UncalledMethodAnswer]


def _view(permission: type[BasePermission]) -> Any:
    class Guarded(APIView):
        authentication_classes: list[Any] = []
        permission_classes = [permission]

        async def get(self, request: Any) -> Response:
            return Response({"ok": True})

    return Guarded.as_view()


class PermissionAnswerTests(SimpleTestCase):
    @pytest.fixture(autouse=True)
    def _caplog(self, caplog: pytest.LogCaptureFixture) -> None:
        self.caplog = caplog

    async def test_a_mistaken_answer_denies_on_the_loop_and_logs_the_class(self) -> None:
        for permission in MISTAKES:
            self.caplog.clear()
            with self.caplog.at_level(logging.ERROR, logger="daf_drf"):
                response = await _view(permission)(AsyncAPIRequestFactory().get("/"))
            assert response.status_code == 403, permission
            assert f"{permission.__qualname__}.has_permission" in self.caplog.text

    def test_a_mistaken_answer_denies_at_drfs_sync_call_sites(self) -> None:
        request = AsyncAPIRequestFactory().get("/")
        for permission in MISTAKES:
            with self.subTest(permission.__name__):
                self.caplog.clear()
                allowed = daf_permissions.has_permission(permission(), request, None)
                assert allowed is False
                assert f"{permission.__qualname__}.has_permission" in self.caplog.text

    async def test_a_mistaken_object_answer_denies(self) -> None:
        request = AsyncAPIRequestFactory().get("/")
        allowed = await daf_permissions.ahas_object_permission(
            ObjectGeneratorAnswer(), request, None, object()
        )
        assert allowed is False
        assert "ObjectGeneratorAnswer.has_object_permission" in self.caplog.text

    async def test_plain_truthy_values_grant_as_in_drf(self) -> None:
        for value in (True, 1, "yes", ["x"], object()):
            response = await _view(_plain(value))(AsyncAPIRequestFactory().get("/"))
            assert response.status_code == 200, value

    async def test_plain_falsy_values_deny_as_in_drf(self) -> None:
        for value in (False, 0, "", [], None):
            response = await _view(_plain(value))(AsyncAPIRequestFactory().get("/"))
            assert response.status_code == 403, value
