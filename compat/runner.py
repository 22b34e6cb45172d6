"""
Scripted scenarios, run against both sides of the compat project.

A `Scenario` is a list of `Step`s (requests) with the status DRF answers for each. `compare()`
runs it twice from the same starting state, once on the DRF project (the oracle) and once on
the daf_drf project, through Django's async request path (`AsyncClient`, ASGI requests), and
returns both lists of `Snapshot`s:

- the database is rolled back to a savepoint between the two runs (ids, sessions and the
  exception handler's `ErrorLog` rows start equal; on PostgreSQL the id sequences are reset
  too, as they do not roll back), the throttle store is cleared and the
  injected clock is reset;
- both sides are served under the same `api/` prefix, so links in bodies are identical;
- a snapshot keeps the status, the headers that matter and the parsed body (JSON), or the
  HTML with its per-request CSRF token masked (the only normalization).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.test import AsyncClient, override_settings

from compat.harness import Clock, project_settings
from compat.project import settings as project
from tests.databases import reset_sequences

# Django 6.1 renamed `savepoint()` to `savepoint_create()` (the old name warns).
_savepoint_create = getattr(transaction, "savepoint_create", None) or transaction.savepoint


HEADERS_THAT_MATTER = (
    "Content-Type",
    "Allow",
    "Vary",
    "Retry-After",
    "WWW-Authenticate",
    "Location",
    "X-Error-Type",
)
_CSRF = re.compile(rb'(csrfmiddlewaretoken" value="|csrfToken": ")[^"]+')

# Sizes reported at the end of the run (`compat/conftest.py`).
STATS = {"scenarios": 0, "requests": 0}


@dataclass(frozen=True)
class Side:
    """One way of serving the project: its `REST_FRAMEWORK`, URLconf and `DAF_DRF` settings."""

    name: str
    rest_framework: dict[str, Any]
    urlconf: str
    daf_drf: dict[str, Any] = field(default_factory=dict)
    # Empties the throttle store before the side plays (the Django cache is always cleared).
    reset: Callable[[], None] | None = None


DRF = Side("DRF", project.ORIGINAL_REST_FRAMEWORK, "compat.project.urls_drf")
DAF = Side("daf_drf", project.REST_FRAMEWORK, "compat.project.urls_daf")
MIXED = Side("mixed", project.REST_FRAMEWORK, "compat.project.urls_mixed")


@dataclass(frozen=True)
class Step:
    """One request and the status DRF answers for it."""

    method: str
    path: str
    expect: int
    body: Any = None
    content_type: str | None = None
    user: str | None = None
    session: bool = False
    csrf: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    advance: float = 0.0
    # The `Retry-After` DRF answers, when a scenario pins it down.
    retry_after: str | None = None

    def describe(self) -> str:
        who = f" as {self.user}{' (session)' if self.session else ''}" if self.user else ""
        return f"{self.method} {self.path}{who}"


def _step(method: str) -> Callable[..., Step]:
    def make(path: str, expect: int, body: Any = None, **kwargs: Any) -> Step:
        return Step(method, "/api/" + path.lstrip("/"), expect, body, **kwargs)

    return make


get, post, put, patch, delete = (_step(m) for m in ("GET", "POST", "PUT", "PATCH", "DELETE"))
head, options = _step("HEAD"), _step("OPTIONS")


def request(method: str, path: str, expect: int, body: Any = None, **kwargs: Any) -> Step:
    return _step(method)(path, expect, body, **kwargs)


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: tuple[Step, ...]

    def __init__(self, name: str, *steps: Step) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "steps", steps)


@dataclass(frozen=True)
class Snapshot:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: Any

    @classmethod
    def of(cls, response: Any) -> Snapshot:
        headers = tuple((h, response[h]) for h in HEADERS_THAT_MATTER if response.has_header(h))
        content = b"".join(response) if response.streaming else response.content
        body: Any
        if response.get("Content-Type", "").startswith("application/json") and content:
            body = json.loads(content)
        else:
            body = _CSRF.sub(rb"\1<csrf>", content).decode("utf-8", "replace")
        return cls(response.status_code, headers, body)


def _encode(step: Step) -> tuple[bytes, str]:
    if isinstance(step.body, bytes):
        return step.body, step.content_type or "application/json"
    if step.body is None:
        return b"", step.content_type or "application/octet-stream"
    return json.dumps(step.body).encode(), step.content_type or "application/json"


class Runner:
    """Runs scenarios on one side; `tokens` maps user names to their API tokens."""

    def __init__(self, side: Side, clock: Clock, tokens: dict[str, str]) -> None:
        self.side = side
        self.clock = clock
        self.tokens = tokens

    async def _client(self, clients: dict[Any, AsyncClient], step: Step) -> AsyncClient:
        key = (step.user if step.session else None, step.csrf)
        if key not in clients:
            client = AsyncClient(enforce_csrf_checks=step.csrf)
            if step.session and step.user:
                user = await get_user_model().objects.aget(username=step.user)
                await client.aforce_login(user)
            clients[key] = client
        return clients[key]

    async def send(self, clients: dict[Any, AsyncClient], step: Step) -> Any:
        client = await self._client(clients, step)
        headers = dict(step.headers)
        if step.user and not step.session:
            headers["Authorization"] = f"Token {self.tokens[step.user]}"
        data, content_type = _encode(step)
        return await client.generic(
            step.method, step.path, data=data, content_type=content_type, headers=headers
        )

    async def run(self, scenario: Scenario) -> list[Snapshot]:
        savepoint = await sync_to_async(_savepoint_create)()
        # PostgreSQL's sequences ignore the rollback: both sides' new rows start at one id.
        await sync_to_async(reset_sequences)()
        try:
            cache.clear()
            if self.side.reset is not None:
                self.side.reset()
            self.clock.reset()
            snapshots = []
            clients: dict[Any, AsyncClient] = {}
            with (
                override_settings(DAF_DRF=self.side.daf_drf),
                project_settings(self.side.rest_framework, self.side.urlconf),
                self.clock.installed(),
            ):
                for step in scenario.steps:
                    self.clock.advance(step.advance)
                    try:
                        response = await self.send(clients, step)
                    except Exception as exc:
                        # An exception that escapes the view: both sides must raise
                        # the same one. The database may be unusable after it.
                        snapshots.append(Snapshot(-1, (), f"{type(exc).__name__}: {exc}"))
                        break
                    snapshots.append(Snapshot.of(response))
            return snapshots
        finally:
            await sync_to_async(transaction.savepoint_rollback)(savepoint)
            cache.clear()


async def compare(
    scenario: Scenario, tokens: dict[str, str], migrated: Side = DAF
) -> tuple[list[Snapshot], list[Snapshot]]:
    """Run `scenario` on DRF then on `migrated` (daf_drf); return both snapshot lists."""
    clock = Clock()
    oracle = await Runner(DRF, clock, tokens).run(scenario)
    other = await Runner(migrated, clock, tokens).run(scenario)
    return oracle, other


def differences(scenario: Scenario, oracle: list[Snapshot], migrated: list[Snapshot]) -> str:
    """A readable report of the steps whose responses differ, or `""`."""
    lines = []
    if len(oracle) != len(migrated):
        # A side stopped early: an exception escaped a view (its snapshot has status -1).
        lines.append(
            f"DRF answered {len(oracle)} of {len(scenario.steps)} steps, daf_drf "
            f"{len(migrated)}; last answers: {oracle[-1:]} / {migrated[-1:]}"
        )
    for index, (step, a, b) in enumerate(zip(scenario.steps, oracle, migrated, strict=False)):
        if a != b:
            lines.append(f"step {index}: {step.describe()}\n  DRF:     {a}\n  daf_drf: {b}")
        if step.retry_after is not None and dict(a.headers).get("Retry-After") != step.retry_after:
            lines.append(
                f"step {index}: {step.describe()}: the DRF oracle answered Retry-After "
                f"{dict(a.headers).get('Retry-After')}, the scenario expects {step.retry_after}"
            )
        if a.status != step.expect:
            lines.append(
                f"step {index}: {step.describe()}: the DRF oracle answered {a.status}, "
                f"the scenario expects {step.expect}: {a.body!r:.300}"
            )
    return "\n".join(lines)
