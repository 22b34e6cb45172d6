"""
DRF's model permissions refuse a view without a queryset, on daf_drf views too.

DRF raises `AssertionError` when `DjangoModelPermissions` (or a subclass) guards a view that
has neither `queryset` nor `get_queryset()`, and when `get_queryset()` returns `None`; daf_drf
keeps the exception and its message, whether `get_queryset` is sync or `async def` and whether
the request was built for WSGI or ASGI.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import TestCase
from rest_framework import permissions
from rest_framework.test import APIRequestFactory

from daf_drf import authentication, generics
from daf_drf.test import AsyncAPIRequestFactory
from daf_drf.views import APIView
from tests.books_api import BookSerializer
from tests.models import Book

MODEL_PERMISSIONS = [
    permissions.DjangoModelPermissions,
    permissions.DjangoObjectPermissions,
    permissions.DjangoModelPermissionsOrAnonReadOnly,
]
CREDENTIALS = "Basic " + base64.b64encode(b"ada:secret").decode()


def _no_queryset_view(permission: type) -> Any:
    class View(APIView):
        authentication_classes = [authentication.BasicAuthentication]
        permission_classes = [permission]

    return View.as_view()


def _none_queryset_view(permission: type, *, is_async: bool) -> Any:
    class View(generics.ListCreateAPIView):
        authentication_classes = [authentication.BasicAuthentication]
        permission_classes = [permission]
        serializer_class = BookSerializer
        queryset = Book.objects.all()

    if is_async:

        async def get_queryset(self: Any) -> Any:
            return None

    else:

        def get_queryset(self: Any) -> Any:
            return None

    View.get_queryset = get_queryset  # type: ignore[method-assign,assignment]
    return View.as_view()


NO_QUERYSET = (
    "Cannot apply {} on a view that does not set `.queryset` or have a `.get_queryset()` method."
)


class ModelPermissionAssertionTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        User.objects.create_superuser("ada", password="secret")

    def test_a_view_without_queryset_is_drfs_assertion_error_from_sync_code(self) -> None:
        for permission in MODEL_PERMISSIONS:
            with self.subTest(permission.__name__):
                request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=CREDENTIALS)
                with pytest.raises(AssertionError) as raised:
                    _no_queryset_view(permission)(request)
                assert str(raised.value) == NO_QUERYSET.format(permission.__name__)

    async def test_a_view_without_queryset_is_drfs_assertion_error_on_the_loop(self) -> None:
        # No subTest on the loop: pytest-timeout's hook for a failing subtest needs the main
        # thread.
        for permission in MODEL_PERMISSIONS:
            request = AsyncAPIRequestFactory().get("/", HTTP_AUTHORIZATION=CREDENTIALS)
            with pytest.raises(AssertionError) as raised:
                await _no_queryset_view(permission)(request)
            assert str(raised.value) == NO_QUERYSET.format(permission.__name__)

    async def test_get_queryset_returning_none_is_drfs_assertion_error(self) -> None:
        for permission in MODEL_PERMISSIONS:
            for is_async in (False, True):
                view = _none_queryset_view(permission, is_async=is_async)
                request = AsyncAPIRequestFactory().get("/", HTTP_AUTHORIZATION=CREDENTIALS)
                with pytest.raises(AssertionError) as raised:
                    await view(request)
                assert str(raised.value) == "View.get_queryset() returned None", (
                    permission,
                    is_async,
                )

    def test_anonymous_read_only_model_permission_asserts_for_anonymous_users_too(self) -> None:
        view = _no_queryset_view(permissions.DjangoModelPermissionsOrAnonReadOnly)
        with pytest.raises(AssertionError):
            view(APIRequestFactory().get("/"))
