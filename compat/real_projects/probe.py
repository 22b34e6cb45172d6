"""
A pytest plugin loaded into both runs of a real project's suite (`-p compat.real_projects.probe`).

It counts the requests that daf_drf's `APIView.dispatch` served, and how many of them were
`ASGIRequest`s, and prints the counts at the end of the session
(`DAF_DRF_DISPATCHED=<n> ASGI=<k>`): the daf_drf run must have served requests
through daf_drf (the migration took effect), the DRF run none. Both runs load it, so both
import daf_drf: the two runs differ only by the recipe's edits.
"""

from __future__ import annotations

import functools
from typing import Any

dispatched = 0
asgi_requests = 0


def pytest_sessionstart(session: Any) -> None:
    from django.core.handlers.asgi import ASGIRequest

    from daf_drf.views import APIView

    original = APIView.dispatch

    @functools.wraps(original)
    async def dispatch(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        global dispatched, asgi_requests
        dispatched += 1
        asgi_requests += isinstance(request, ASGIRequest)
        return await original(self, request, *args, **kwargs)

    APIView.dispatch = dispatch  # type: ignore[method-assign]


def pytest_sessionfinish(session: Any, exitstatus: int) -> None:
    print(f"\nDAF_DRF_DISPATCHED={dispatched} ASGI={asgi_requests}", flush=True)
