"""
Responses of daf_drf views render on the event loop, byte for byte as DRF renders them.

Django's async handler renders a response with a sync `render()` in a thread; daf_drf hands
it a `LoopRenderedResponse` when the renderer is pure, and keeps DRF's `Response` (one hop)
when it may do I/O. Requests go through Django's real ASGI handlers.
"""

from __future__ import annotations

import pickle
import threading
from typing import Any

import pytest
from django.core.handlers.asgi import ASGIHandler as StockASGIHandler
from django.test import TestCase, override_settings
from django.urls import path
from rest_framework import status
from rest_framework import views as drf_views
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.test import APIClient

from daf_drf.asgi import ASGIHandler
from daf_drf.hooks import inline_safe
from daf_drf.response import LoopRenderedResponse, render_on_loop
from daf_drf.views import APIView
from tests.asgi_client import request, run_on_fresh_loop
from tests.models import Author
from tests.support.hops import ThreadHops

SEEN: dict[str, Any] = {}


@inline_safe
class MarkedJSONRenderer(JSONRenderer):
    pass


class UnknownJSONRenderer(JSONRenderer):
    pass


class SubclassedResponse(Response):
    pass


def _answer(view: Any, request: Any, kind: str) -> Response:
    if kind == "created":
        return Response({"id": 7, "name": "é ü"}, status=201, headers={"Location": "/x/7"})
    if kind == "empty":
        return Response(status=status.HTTP_204_NO_CONTENT)
    if kind == "list":
        return Response([1, 2.5, None, "three"])
    if kind == "missing":
        raise NotFound("No such thing.")
    return Response({"hello": "world"})


class Hello(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    async def get(self, request: Any, kind: str = "hello") -> Response:
        return _answer(self, request, kind)


class DrfHello(drf_views.APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer]

    def get(self, request: Any, kind: str = "hello") -> Response:
        return _answer(self, request, kind)


class Marked(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    renderer_classes = [MarkedJSONRenderer]

    async def get(self, request: Any) -> Response:
        return Response({"marked": True})


class Unknown(Marked):
    renderer_classes = [UnknownJSONRenderer]


class Subclassed(Marked):
    renderer_classes = [JSONRenderer]

    async def get(self, request: Any) -> Response:
        return SubclassedResponse({"subclass": True})


class Authors(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    renderer_classes = [JSONRenderer]

    async def get(self, request: Any) -> Response:
        # A lazy queryset: DRF's encoder evaluates it while rendering.
        return Response(Author.objects.order_by("name").values("name"))


def _with_callback(view: Any) -> Any:
    async def wrapped(request: Any, *args: Any, **kwargs: Any) -> Any:
        response = await view(request, *args, **kwargs)

        def callback(rendered: Any) -> None:
            SEEN["callback_thread"] = threading.current_thread().name

        response.add_post_render_callback(callback)
        return response

    return wrapped


urlpatterns = [
    path("daf/<str:kind>", Hello.as_view()),
    path("drf/<str:kind>", DrfHello.as_view()),
    path("marked", Marked.as_view()),
    path("unknown", Unknown.as_view()),
    path("subclassed", Subclassed.as_view()),
    path("callback", _with_callback(Hello.as_view())),
    path("authors", Authors.as_view()),
]


@pytest.fixture(autouse=True)
def render_settings(settings: Any) -> None:
    settings.ROOT_URLCONF = __name__
    settings.MIDDLEWARE = []
    SEEN.clear()


def serve(handler: Any, url: str, accept: bytes = b"application/json") -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        with ThreadHops() as hops:
            response = await request(handler, url, headers=[(b"accept", accept)])
        response["hops"] = hops.names()
        return response

    return run_on_fresh_loop(go)  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["hello", "created", "empty", "list", "missing"])
@pytest.mark.parametrize("accept", [b"application/json", b"application/json; indent=4", b"*/*"])
def test_json_bytes_and_headers_are_drfs(kind: str, accept: bytes) -> None:
    handler = StockASGIHandler()
    daf = serve(handler, f"/daf/{kind}", accept)
    drf = serve(handler, f"/drf/{kind}", accept)
    assert (daf["status"], daf["headers"], daf["body"]) == (
        drf["status"],
        drf["headers"],
        drf["body"],
    )


def test_json_response_renders_without_a_thread_hop() -> None:
    daf = serve(StockASGIHandler(), "/daf/hello")
    drf = serve(StockASGIHandler(), "/drf/hello")
    assert "SimpleTemplateResponse.render" not in daf["hops"]
    # The control: DRF's own Response is rendered in Django's thread hop.
    assert "SimpleTemplateResponse.render" in drf["hops"]


def test_json_endpoint_through_the_entry_needs_no_thread_at_all() -> None:
    handler = ASGIHandler()
    response = serve(handler, "/daf/hello")
    assert response["status"] == 200
    assert response["hops"] == []
    assert handler.path_counts == {"inline": 1}


def test_browsable_api_renders_in_one_thread_hop() -> None:
    response = serve(StockASGIHandler(), "/daf/hello", accept=b"text/html")
    assert response["status"] == 200
    assert dict(response["headers"])[b"Content-Type"] == b"text/html; charset=utf-8"
    assert response["hops"].count("SimpleTemplateResponse.render") == 1


def test_renderer_marked_inline_safe_renders_on_the_loop() -> None:
    response = serve(StockASGIHandler(), "/marked")
    assert response["body"] == b'{"marked":true}'
    assert "SimpleTemplateResponse.render" not in response["hops"]


def test_unknown_renderer_renders_in_djangos_hop() -> None:
    response = serve(StockASGIHandler(), "/unknown")
    assert response["body"] == b'{"marked":true}'
    assert response["hops"].count("SimpleTemplateResponse.render") == 1


def test_response_subclass_keeps_djangos_hop() -> None:
    response = serve(StockASGIHandler(), "/subclassed")
    assert response["body"] == b'{"subclass":true}'
    assert response["hops"].count("SimpleTemplateResponse.render") == 1


def test_post_render_callback_runs_in_a_thread_not_on_the_loop() -> None:
    # Cache middleware stores the response from such a callback: that is I/O.
    response = serve(StockASGIHandler(), "/callback")
    assert response["body"] == b'{"hello":"world"}'
    assert SEEN["callback_thread"] != "test-loop"
    assert response["hops"].count("SimpleTemplateResponse.render") == 1


def test_sync_caller_gets_a_rendered_response() -> None:
    response = render_on_loop(_finalized(Response({"a": 1})))
    assert type(response) is LoopRenderedResponse
    assert response.render() is response
    assert response.content == b'{"a":1}'


def test_rendered_response_pickles_for_the_cache() -> None:
    response = render_on_loop(_finalized(Response({"a": 1}))).render()
    restored = pickle.loads(pickle.dumps(response))
    assert restored.content == b'{"a":1}'
    assert restored["Content-Type"] == "application/json"


def test_wsgi_client_gets_drfs_bytes() -> None:
    client = APIClient()
    daf = client.get("/daf/created")
    drf = client.get("/drf/created")
    assert (daf.status_code, daf.content, daf.headers) == (
        drf.status_code,
        drf.content,
        drf.headers,
    )


def _finalized(response: Response) -> Response:
    response.accepted_renderer = JSONRenderer()
    response.accepted_media_type = "application/json"
    response.renderer_context = {}
    return response


@override_settings(ROOT_URLCONF=__name__, MIDDLEWARE=[])
class LazyDataTests(TestCase):
    async def test_lazy_queryset_in_data_renders_in_a_thread(self) -> None:
        await Author.objects.acreate(name="Ursula")
        await Author.objects.acreate(name="Octavia")
        response = await self.async_client.get("/authors")
        assert response.status_code == 200
        assert response.content == b'[{"name":"Octavia"},{"name":"Ursula"}]'
