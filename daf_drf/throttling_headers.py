"""
Opt-in IETF `RateLimit` and `RateLimit-Policy` response headers for daf_drf's throttles.

Off by default, so that responses stay byte-identical to DRF's. To turn them on:

    DAF_DRF = {"THROTTLE_RATELIMIT_HEADERS": True}
    MIDDLEWARE = [..., "daf_drf.throttling.RateLimitHeadersMiddleware"]

Every daf_drf throttle that checked the request (on a DRF view or a daf_drf view) then adds
one policy, named after its scope, in the format of draft-ietf-httpapi-ratelimit-headers:

    RateLimit-Policy: "anon";q=100;w=3600, "burst";q=10;w=60
    RateLimit: "anon";r=97;t=3412, "burst";r=0;t=42

`q` is the quota, `w` the window in seconds, `r` the requests left and `t` the seconds until
the oldest counted request leaves the window (when the next one becomes available).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol, cast

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

if TYPE_CHECKING:
    from rest_framework.request import Request

# A sync middleware chain returns the response; an async one, an awaitable of it.
GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]

__all__ = [
    "ATTRIBUTE",
    "CheckedThrottle",
    "RateLimitHeadersMiddleware",
    "add_headers",
    "record_ratelimit",
]

# Stored on Django's `HttpRequest`, which DRF's `Request` wraps, so the middleware sees it.
ATTRIBUTE = "daf_drf_ratelimit"


def _quote(name: str) -> str:
    # An RFC 8941 sf-string: printable ASCII, with `"` and `\` escaped.
    cleaned = "".join(ch for ch in name if 0x20 <= ord(ch) < 0x7F)
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


class CheckedThrottle(Protocol):
    """What `record_ratelimit` reads of a throttle after its check (DRF's attributes)."""

    @property
    def scope(self) -> str | None: ...
    @property
    def num_requests(self) -> int | None: ...
    @property
    def duration(self) -> int | None: ...
    @property
    def history(self) -> Sequence[float]: ...
    @property
    def now(self) -> float: ...


def record_ratelimit(request: Request | HttpRequest, throttle: CheckedThrottle) -> None:
    """Remember the state `throttle` left after checking `request`, for the middleware."""
    num, duration = throttle.num_requests, throttle.duration
    if num is None or duration is None:
        return
    history, now = throttle.history, throttle.now
    remaining = max(num - len(history), 0)
    reset = duration - (now - history[-1]) if history else duration
    state = (
        str(throttle.scope or type(throttle).__name__),
        num,
        duration,
        remaining,
        max(math.ceil(reset), 0),
    )
    target = getattr(request, "_request", request)
    states = target.__dict__.setdefault(ATTRIBUTE, [])
    states.append(state)


def add_headers(request: HttpRequest, response: HttpResponseBase) -> None:
    """Add the headers for the throttle states recorded on `request`, if any."""
    states = getattr(request, ATTRIBUTE, None)
    if not states:
        return
    response.headers["RateLimit-Policy"] = ", ".join(
        f"{_quote(name)};q={num};w={duration}" for name, num, duration, _, _ in states
    )
    response.headers["RateLimit"] = ", ".join(
        f"{_quote(name)};r={remaining};t={reset}" for name, _, _, remaining, reset in states
    )


class RateLimitHeadersMiddleware:
    """
    Add `RateLimit` / `RateLimit-Policy` to responses of throttled views (sync or async).

    It only copies what the throttles recorded, so it costs nothing on views without
    daf_drf throttles, and nothing at all while `THROTTLE_RATELIMIT_HEADERS` is off.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if self.async_mode:
            return self.__acall__(request)
        response = cast(HttpResponseBase, self.get_response(request))  # a sync chain
        add_headers(request, response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = await cast(Awaitable[HttpResponseBase], self.get_response(request))
        add_headers(request, response)
        return response
