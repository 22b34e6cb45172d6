"""
Test helpers for daf_drf views: DRF's test API, async.

`AsyncAPIClient` and `AsyncAPIRequestFactory` are DRF's `APIClient` and `APIRequestFactory`
built on Django's `AsyncClient` and `AsyncRequestFactory`, so requests go through Django's
async request path (an `ASGIRequest`, `get_response_async`, async middleware):

    from daf_drf.test import APITestCase

    class OrderTests(APITestCase):
        async def test_create(self):
            self.async_client.force_authenticate(user=self.user)
            response = await self.async_client.post("/orders/", {"sku": "A1"}, format="json")
            assert response.status_code == 201

They keep DRF's arguments: `format=` (the body is rendered by
`TEST_REQUEST_RENDERER_CLASSES`), `content_type=`, `force_authenticate(user, token)`,
`credentials(**kwargs)` and `follow=True`. Extra keyword arguments use DRF's WSGI spelling
(`HTTP_AUTHORIZATION="Token abc"`, `CONTENT_TYPE`, `REMOTE_ADDR`, `QUERY_STRING`) and are
translated into real ASGI headers and scope keys; Django's own async factory would send
`HTTP_AUTHORIZATION` as a header literally named `http-authorization`.

DRF's sync test classes are re-exported, so `from daf_drf.test import APIClient` works too,
and so do DRF-style tests: a daf_drf view called from sync code (`view(factory.get("/"))`)
returns its response, as DRF's does; `APIClient`, `RequestsClient` and `APITestCase.client`
reach daf_drf views through Django's WSGI handler.
"""

from __future__ import annotations

from rest_framework import test as drf_test
from rest_framework.test import (
    APIClient,
    APIRequestFactory,
    RequestsClient,
    URLPatternsTestCase,
    force_authenticate,
)

from daf_drf._test_client import AsyncAPIClient, ForceAuthAsyncClientHandler
from daf_drf._test_factory import AsyncAPIRequestFactory, asgi_header_name

__all__ = [
    "APIClient",
    "APILiveServerTestCase",
    "APIRequestFactory",
    "APISimpleTestCase",
    "APITestCase",
    "APITransactionTestCase",
    "AsyncAPIClient",
    "AsyncAPIRequestFactory",
    "ForceAuthAsyncClientHandler",
    "RequestsClient",
    "URLPatternsTestCase",
    "asgi_header_name",
    "force_authenticate",
]


class APITestCase(drf_test.APITestCase):
    """DRF's `APITestCase`; `self.async_client` is an `AsyncAPIClient`."""

    async_client_class = AsyncAPIClient


class APITransactionTestCase(drf_test.APITransactionTestCase):
    """DRF's `APITransactionTestCase`; `self.async_client` is an `AsyncAPIClient`."""

    async_client_class = AsyncAPIClient


class APISimpleTestCase(drf_test.APISimpleTestCase):
    """DRF's `APISimpleTestCase`; `self.async_client` is an `AsyncAPIClient`."""

    async_client_class = AsyncAPIClient


class APILiveServerTestCase(drf_test.APILiveServerTestCase):
    """DRF's `APILiveServerTestCase`; `self.async_client` is an `AsyncAPIClient`."""

    async_client_class = AsyncAPIClient
