"""
The demo's migrated endpoints: daf_drf views, async end to end.

- `QuoteViewSet`: a `ModelViewSet` behind DRF's `DefaultRouter`, throttle scope `quotes`
  (shared with the DRF endpoint in `legacy.py`).
- `fanout`: calls a slow upstream several times concurrently with `asyncio.gather` over
  `httpx.AsyncClient`; five calls of 200 ms answer in about 200 ms, not 1 s.
- `slow_upstream`: the "upstream", served by the demo itself.
- `events`: server-sent events from an async generator.
"""

from __future__ import annotations

import asyncio
import json
import time
import weakref
from collections.abc import AsyncIterator
from typing import Any

import httpx
from django.db.models import F
from django.http import StreamingHttpResponse
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from daf_drf import viewsets
from daf_drf.decorators import (
    action,
    api_view,
    permission_classes,
    renderer_classes,
    throttle_classes,
)
from example.api.models import Quote
from example.api.serializers import EventParams, FanoutParams, QuoteSerializer, UpstreamParams


class QuoteViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Quotes, migrated to daf_drf: DRF's code, async dispatch. `POST {id}/like/` likes one."""

    queryset = Quote.objects.select_related("author")
    serializer_class = QuoteSerializer
    throttle_scope = "quotes"

    @action(detail=True, methods=["post"])
    async def like(self, request: Any, pk: Any = None) -> Response:
        """Add one like, atomically in the database."""
        quote = await self.aget_object()
        await Quote.objects.filter(pk=quote.pk).aupdate(likes=F("likes") + 1)
        await quote.arefresh_from_db(fields=["likes"])
        return Response({"id": quote.pk, "likes": quote.likes})


@api_view(["GET"])
async def api_root(request: Any) -> Response:
    """The demo's endpoints. See example/URLS.txt for what to try."""
    return Response(
        {
            "quotes (daf_drf)": reverse("quote-list", request=request),
            "legacy quotes (DRF)": reverse("legacy-quote-list", request=request),
            "fan-out": reverse("fanout", request=request) + "?calls=5&ms=200",
            "server-sent events": reverse("events", request=request) + "?count=5&interval=1",
            "slow upstream": reverse("upstream-slow", request=request) + "?ms=200",
        }
    )


# One HTTP client per event loop: a client is bound to the loop it was created on, and
# creating one per request would cost more than the calls it makes.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def http_client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = httpx.AsyncClient(timeout=10.0)
    return client


@api_view(["GET"])
async def fanout(request: Any) -> Response:
    """
    Call the slow upstream `calls` times concurrently (each sleeps `ms` milliseconds) and
    report how long the whole fan-out took.
    """
    params = FanoutParams(data=request.query_params)
    params.is_valid(raise_exception=True)
    calls, ms = params.validated_data["calls"], params.validated_data["ms"]
    # The upstream is this very server; ALLOWED_HOSTS limits the Host header to loopback.
    upstream = reverse("upstream-slow", request=request)
    started = time.perf_counter()
    client = http_client()
    responses = await asyncio.gather(
        *(client.get(upstream, params={"ms": ms, "id": i}) for i in range(calls))
    )
    elapsed = time.perf_counter() - started
    return Response(
        {
            "calls": calls,
            "upstream_ms": ms,
            "elapsed_ms": round(elapsed * 1000, 1),
            "sequential_would_take_ms": calls * ms,
            "results": [r.json() for r in responses],
        }
    )


@api_view(["GET"])
@permission_classes([AllowAny])
@throttle_classes([])
async def slow_upstream(request: Any) -> Response:
    """A slow upstream service: answers after `ms` milliseconds (not throttled)."""
    params = UpstreamParams(data=request.query_params)
    params.is_valid(raise_exception=True)
    ms = params.validated_data["ms"]
    await asyncio.sleep(ms / 1000)
    return Response({"id": params.validated_data["id"], "slept_ms": ms})


class EventStreamRenderer(BaseRenderer):
    """Lets clients that send `Accept: text/event-stream` (browsers' `EventSource`) in."""

    media_type = "text/event-stream"
    format = "sse"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> bytes:
        # Only error responses are rendered: the stream itself is a StreamingHttpResponse.
        return f"event: error\ndata: {json.dumps(data)}\n\n".encode()


async def _event_stream(count: int, interval: float) -> AsyncIterator[str]:
    for tick in range(count):
        quote = await Quote.objects.select_related("author").order_by("?").afirst()
        payload = {
            "tick": tick,
            "quote": quote.text if quote else None,
            "author": quote.author.name if quote else None,
        }
        yield f"id: {tick}\nevent: quote\ndata: {json.dumps(payload)}\n\n"
        if tick + 1 < count:
            await asyncio.sleep(interval)


@api_view(["GET"])
@renderer_classes([JSONRenderer, EventStreamRenderer, BrowsableAPIRenderer])
async def events(request: Any) -> StreamingHttpResponse:
    """Server-sent events: `count` random quotes, one every `interval` seconds."""
    params = EventParams(data=request.query_params)
    params.is_valid(raise_exception=True)
    stream = _event_stream(params.validated_data["count"], params.validated_data["interval"])
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
