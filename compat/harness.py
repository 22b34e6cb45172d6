"""
Running the compat project inside the test process.

The test run uses `tests.settings`. DRF binds most `REST_FRAMEWORK` settings to class
attributes when its modules are imported (`APIView.throttle_classes`,
`GenericAPIView.pagination_class`, `PageNumberPagination.page_size`,
`SimpleRateThrottle.THROTTLE_RATES`, and every `@api_view` class copies `APIView`'s), so
`override_settings(REST_FRAMEWORK=...)` alone would leave the compat project running with the
test suite's defaults. `project_settings()` does what starting the project with its own
settings would have done: it overrides the settings and rebinds every class attribute that
still holds the value DRF bound at import time (found by identity, so a view's explicit
`permission_classes = [AllowAny]` is left alone), and restores everything on exit.

`Clock` is the injected throttle timer (DRF's own tests replace `timer` the same way).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from django.db import connections
from django.test.utils import override_settings
from rest_framework import generics, pagination, throttling, views
from rest_framework.settings import APISettings, api_settings

# attribute -> (owner class DRF binds it on, setting name)
_BOUND: dict[str, tuple[type, str]] = {
    "renderer_classes": (views.APIView, "DEFAULT_RENDERER_CLASSES"),
    "parser_classes": (views.APIView, "DEFAULT_PARSER_CLASSES"),
    "authentication_classes": (views.APIView, "DEFAULT_AUTHENTICATION_CLASSES"),
    "throttle_classes": (views.APIView, "DEFAULT_THROTTLE_CLASSES"),
    "permission_classes": (views.APIView, "DEFAULT_PERMISSION_CLASSES"),
    "content_negotiation_class": (views.APIView, "DEFAULT_CONTENT_NEGOTIATION_CLASS"),
    "metadata_class": (views.APIView, "DEFAULT_METADATA_CLASS"),
    "versioning_class": (views.APIView, "DEFAULT_VERSIONING_CLASS"),
    "filter_backends": (generics.GenericAPIView, "DEFAULT_FILTER_BACKENDS"),
    "pagination_class": (generics.GenericAPIView, "DEFAULT_PAGINATION_CLASS"),
    "page_size": (pagination.PageNumberPagination, "PAGE_SIZE"),
    "THROTTLE_RATES": (throttling.SimpleRateThrottle, "DEFAULT_THROTTLE_RATES"),
}

# The objects DRF bound at import time, captured before any test changes them.
_IMPORT_TIME: dict[str, Any] = {attr: owner.__dict__[attr] for attr, (owner, _) in _BOUND.items()}
_ROOTS = (views.APIView, pagination.BasePagination, throttling.BaseThrottle)


def _all_classes() -> Iterator[type]:
    seen: set[type] = set()
    stack: list[type] = list(_ROOTS)
    while stack:
        cls = stack.pop()
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        stack.extend(cls.__subclasses__())


def _is_default_bound(cls: type, attr: str, value: Any) -> bool:
    if value is _IMPORT_TIME[attr]:
        return True
    # `None` defaults (pagination, versioning) can't be told apart by identity: a project's
    # view may set `pagination_class = None` on purpose. Only the framework's own classes
    # (DRF's owner class, daf_drf's twins) are rebound from `None`.
    return value is None and cls.__module__.startswith("daf_drf.")


@contextlib.contextmanager
def project_settings(
    rest_framework: dict[str, Any], urlconf: str, *, atomic_requests: bool = True
) -> Iterator[None]:
    """Run the block as if the project had started with `rest_framework` and `urlconf`."""
    fresh = APISettings(rest_framework)
    rebound: list[tuple[type, str, Any]] = []
    connection = connections["default"]
    previous_atomic = connection.settings_dict.get("ATOMIC_REQUESTS", False)
    with override_settings(REST_FRAMEWORK=rest_framework, ROOT_URLCONF=urlconf):
        try:
            for cls in _all_classes():
                for attr, (owner, setting) in _BOUND.items():
                    if attr not in cls.__dict__:
                        continue
                    value = cls.__dict__[attr]
                    if cls is owner or _is_default_bound(cls, attr, value):
                        rebound.append((cls, attr, value))
                        setattr(cls, attr, getattr(fresh, setting))
            connection.settings_dict["ATOMIC_REQUESTS"] = atomic_requests
            yield
        finally:
            connection.settings_dict["ATOMIC_REQUESTS"] = previous_atomic
            for cls, attr, value in reversed(rebound):
                setattr(cls, attr, value)
            api_settings.reload()


class Clock:
    """
    The throttle timer of a test: DRF's `SimpleRateThrottle.timer` and every subclass that
    defines its own `timer` read `Clock.now` while `installed()` is active.
    """

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.start = start
        self.now = start

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def reset(self) -> None:
        self.now = self.start

    @contextlib.contextmanager
    def installed(self) -> Iterator[Clock]:
        clock = self
        patched: list[tuple[type, Any]] = []

        def timer(_self: Any) -> float:
            return clock.now

        for cls in _all_classes():
            if "timer" in cls.__dict__:
                patched.append((cls, cls.__dict__["timer"]))
                cls.timer = timer  # type: ignore[attr-defined]
        try:
            yield self
        finally:
            for cls, original in patched:
                cls.timer = original  # type: ignore[attr-defined]
