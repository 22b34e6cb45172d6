"""
Differential testing: DRF is the oracle.

Send the same request to a DRF view and to its daf_drf twin, through Django's async request
path (`daf_drf.test.AsyncAPIClient`), and assert that both answer the same status, the same
body and the same headers that matter (`Allow`, `Vary`, `WWW-Authenticate`, `Retry-After`,
`Content-Type`, `Location`). An unhandled exception must propagate from both, with the same
type and message.

Usage, one request:

    from compat.differential import assert_same_response

    class BookTests(TestCase):
        async def test_missing_book_is_a_404_like_drf(self):
            await assert_same_response(DrfBookDetail.as_view(), DafBookDetail.as_view(),
                                       "GET", "?id=404")

`drf` and `daf` are views (mounted for the duration of the call under private URLs, next to
the project's own URLconf; the request path is appended to the mount point and URL keyword
arguments are not captured) or URL paths (the request path is appended to them):

    await assert_same_response("/drf/books/", "/daf/books/", "GET", "1/")

A scripted list of requests, with an injected clock for throttles:

    clock = Clock(start=1_000.0)
    diff = Differential(DrfView.as_view(), DafView.as_view(), clock=clock,
                        timed=[drf_throttling.AnonRateThrottle, daf_throttling.AnonRateThrottle])
    scenario = Scenario().get().get().get().advance(60).get()
    await diff.run(scenario)

`run()` plays the whole scenario against DRF, then calls `reset` (default: clear every Django
cache, where DRF keeps throttle history) and rewinds the clock to `start`, then plays it
against daf_drf, and compares step by step. The two sides therefore never share state such
as throttle counters. While a side plays, each class in `timed` has its `timer` replaced by
`lambda self: clock.now`, exactly how DRF's own throttle tests inject time;
`Scenario.advance(seconds)` moves the clock. Nothing sleeps.

Every request sent is counted in `counts` (`requests`, `comparisons`, `scenarios`), which a
test-session hook may print.
"""

from __future__ import annotations

import difflib
import json
import types
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.test import override_settings
from django.urls import include, path, re_path

from daf_drf.test import AsyncAPIClient

__all__ = [
    "COMPARED_HEADERS",
    "Advance",
    "Call",
    "Clock",
    "Differential",
    "Outcome",
    "ResponsesDiffer",
    "Scenario",
    "assert_same_response",
    "counts",
]

COMPARED_HEADERS: tuple[str, ...] = (
    "Allow",
    "Vary",
    "WWW-Authenticate",
    "Retry-After",
    "Content-Type",
    "Location",
)

#: Requests sent and comparisons made by this process (a later report prints the totals).
counts: Counter[str] = Counter()

Target = str | Callable[..., Any]

_CLIENT_METHODS = frozenset({"get", "head", "post", "put", "patch", "delete", "options"})


class ResponsesDiffer(AssertionError):
    """The DRF view and its daf_drf twin answered differently."""


class Clock:
    """A settable clock for throttle tests: `now` starts at `start`; `advance()` moves it."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.start = start
        self.now = start

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def rewind(self) -> None:
        self.now = self.start


@dataclass(frozen=True)
class Call:
    """One request: DRF test-client arguments, plus `user`/`token` to force authentication."""

    method: str = "GET"
    path: str = ""
    data: Any = None
    format: str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    user: Any = None
    token: Any = None


@dataclass(frozen=True)
class Advance:
    """A scenario step that moves the injected clock."""

    seconds: float


class Scenario:
    """A scripted list of `Call` and `Advance` steps: `Scenario().get().advance(60).get()`."""

    def __init__(self, steps: Iterable[Call | Advance] = ()) -> None:
        self.steps: list[Call | Advance] = list(steps)

    def call(self, method: str, path: str = "", **kwargs: Any) -> Scenario:
        self.steps.append(Call(method.upper(), path, **kwargs))
        return self

    def get(self, path: str = "", **kwargs: Any) -> Scenario:
        return self.call("GET", path, **kwargs)

    def post(self, path: str = "", **kwargs: Any) -> Scenario:
        return self.call("POST", path, **kwargs)

    def put(self, path: str = "", **kwargs: Any) -> Scenario:
        return self.call("PUT", path, **kwargs)

    def patch(self, path: str = "", **kwargs: Any) -> Scenario:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str = "", **kwargs: Any) -> Scenario:
        return self.call("DELETE", path, **kwargs)

    def head(self, path: str = "", **kwargs: Any) -> Scenario:
        return self.call("HEAD", path, **kwargs)

    def options(self, path: str = "", **kwargs: Any) -> Scenario:
        return self.call("OPTIONS", path, **kwargs)

    def advance(self, seconds: float) -> Scenario:
        self.steps.append(Advance(seconds))
        return self


@dataclass(frozen=True)
class Outcome:
    """What one side answered: a response's parts, or the exception that propagated."""

    status: int | None
    headers: dict[str, str | None]
    body: bytes
    exception: tuple[str, str] | None = None

    def pretty_body(self) -> str:
        try:
            return json.dumps(json.loads(self.body), indent=2, sort_keys=True, ensure_ascii=False)
        except ValueError:
            return self.body.decode("utf-8", "replace")


class Differential:
    """
    Plays requests against a DRF view and its daf_drf twin and asserts identical answers.

    `drf`/`daf`: a view callable or a URL path. `clock`/`timed`: see the module docstring.
    `reset`: called before each side plays (default: clear every Django cache).
    `headers`: the headers compared (default `COMPARED_HEADERS`). `json_body=True` compares
    parsed JSON instead of bytes (for bodies whose key order may legitimately differ).
    """

    def __init__(
        self,
        drf: Target,
        daf: Target,
        *,
        clock: Clock | None = None,
        timed: Sequence[type] = (),
        reset: Callable[[], None] | None = None,
        headers: Sequence[str] = COMPARED_HEADERS,
        json_body: bool = False,
    ) -> None:
        self.drf, self.daf = drf, daf
        self.clock = clock
        self.timed = tuple(timed)
        self.reset = reset if reset is not None else _clear_caches
        self.headers = tuple(headers)
        self.json_body = json_body

    async def run(self, scenario: Scenario | Iterable[Call | Advance]) -> list[Outcome]:
        """Play `scenario` on both sides, assert each step matches, return DRF's outcomes."""
        steps = scenario.steps if isinstance(scenario, Scenario) else list(scenario)
        counts["scenarios"] += 1
        urlconf = self._urlconf()
        with override_settings(ROOT_URLCONF=urlconf):
            drf = await self._play(self.drf, "__drf__", steps)
            daf = await self._play(self.daf, "__daf__", steps)
        calls = [step for step in steps if isinstance(step, Call)]
        for index, (call, left, right) in enumerate(zip(calls, drf, daf, strict=True)):
            counts["comparisons"] += 1
            self._compare(index, call, left, right)
        return drf

    async def request(self, method: str = "GET", path: str = "", **kwargs: Any) -> Outcome:
        """Send one request to both sides, assert they match, and return the outcome."""
        outcomes = await self.run([Call(method.upper(), path, **kwargs)])
        return outcomes[0]

    # --- internals -------------------------------------------------------------------------

    def _urlconf(self) -> Any:
        patterns: list[Any] = []
        for mount, target in (("__drf__", self.drf), ("__daf__", self.daf)):
            if not isinstance(target, str):
                patterns.append(re_path(rf"^{mount}/", target))
        if not patterns:
            return settings.ROOT_URLCONF
        module = types.ModuleType("compat.differential_urls")
        module.urlpatterns = [*patterns, path("", include(settings.ROOT_URLCONF))]  # type: ignore[attr-defined]
        return module

    async def _play(self, target: Target, mount: str, steps: list[Call | Advance]) -> list[Outcome]:
        self.reset()
        if self.clock is not None:
            self.clock.rewind()
        prefix = target if isinstance(target, str) else f"/{mount}/"
        client = AsyncAPIClient()
        outcomes = []
        saved = {cls: cls.__dict__.get("timer") for cls in self.timed}
        clock = self.clock
        if clock is not None:
            for cls in self.timed:
                cls.timer = lambda self: clock.now  # type: ignore[attr-defined]
        try:
            for step in steps:
                if isinstance(step, Advance):
                    if clock is None:
                        raise TypeError("Scenario.advance() needs Differential(clock=...).")
                    clock.advance(step.seconds)
                    continue
                outcomes.append(await self._send(client, prefix + step.path, step))
        finally:
            for cls, timer in saved.items():
                if timer is None:
                    delattr(cls, "timer")
                else:
                    cls.timer = timer  # type: ignore[attr-defined]
        return outcomes

    async def _send(self, client: AsyncAPIClient, url: str, call: Call) -> Outcome:
        counts["requests"] += 1
        client.force_authenticate(call.user, call.token)
        kwargs: dict[str, Any] = {**call.extra, "headers": call.headers or None}
        if call.method not in ("GET", "HEAD"):
            kwargs.update(format=call.format, content_type=call.content_type)
        name = call.method.lower()
        method = getattr(client, name) if name in _CLIENT_METHODS else None
        try:
            if method is None:
                body, media_type = client._encode_data(call.data, call.format, call.content_type)
                response = await client.generic(
                    call.method,
                    url,
                    body,
                    media_type,
                    headers=call.headers or None,
                    **call.extra,
                )
            else:
                response = await method(url, call.data, **kwargs)
        except Exception as exc:  # an unhandled exception is an outcome too
            return Outcome(
                None, {}, b"", (f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc))
            )
        headers = {name: response.headers.get(name) for name in self.headers}
        return Outcome(response.status_code, headers, bytes(response.content))

    def _compare(self, index: int, call: Call, drf: Outcome, daf: Outcome) -> None:
        problems = []
        if drf.exception != daf.exception:
            problems.append(f"  exception: DRF {drf.exception!r} != daf_drf {daf.exception!r}")
        if drf.status != daf.status:
            problems.append(f"  status: DRF {drf.status} != daf_drf {daf.status}")
        for name in self.headers:
            if drf.headers.get(name) != daf.headers.get(name):
                problems.append(
                    f"  header {name}: DRF {drf.headers.get(name)!r} != "
                    f"daf_drf {daf.headers.get(name)!r}"
                )
        if self._bodies_differ(drf, daf):
            diff = difflib.unified_diff(
                drf.pretty_body().splitlines(),
                daf.pretty_body().splitlines(),
                "DRF",
                "daf_drf",
                lineterm="",
            )
            problems.append("  body:\n    " + "\n    ".join(diff))
        if problems:
            raise ResponsesDiffer(
                f"Step {index} ({call.method} {call.path!r}) differs:\n" + "\n".join(problems)
            )

    def _bodies_differ(self, drf: Outcome, daf: Outcome) -> bool:
        if not self.json_body:
            return drf.body != daf.body
        try:
            return bool(json.loads(drf.body or b"null") != json.loads(daf.body or b"null"))
        except ValueError:
            return drf.body != daf.body


def _clear_caches() -> None:
    for cache in caches.all():
        cache.clear()


async def assert_same_response(
    drf: Target, daf: Target, method: str = "GET", path: str = "", **kwargs: Any
) -> Outcome:
    """
    Send one request to `drf` and `daf` and raise `ResponsesDiffer` (an `AssertionError`) with
    a readable diff unless they answer alike. `kwargs` are `Call` fields (`data`, `format`,
    `content_type`, `headers`, `extra`, `user`, `token`) or, with a `differential_` prefix,
    `Differential` options (`differential_json_body=True`).
    """
    options = {
        k.removeprefix("differential_"): v
        for k, v in kwargs.items()
        if k.startswith("differential_")
    }
    call_kwargs = {k: v for k, v in kwargs.items() if not k.startswith("differential_")}
    return await Differential(drf, daf, **options).request(method, path, **call_kwargs)
