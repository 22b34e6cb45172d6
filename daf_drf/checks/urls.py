"""
The URLconf walker every check that looks at routed views shares.

A check that calls `routed_views()` reads the project's URLconf: the registry registers it with
`Tags.urls`, as Django registers its own URL checks, so `manage.py check --tag urls` runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from rest_framework.views import APIView

__all__ = ["RoutedView", "routed_views", "routes"]


class RoutedView(NamedTuple):
    """A DRF view class (DRF's, daf_drf's or another's) the URLconf routes, as routed."""

    route: str
    """Its route, as written in the URLconf (`"api/books/<int:pk>/"`), without a leading `/`."""
    view: type[APIView]
    """The view class."""
    initkwargs: Mapping[str, Any]
    """The keyword arguments given to `as_view()`, which override class attributes."""


def _walk(patterns: Iterable[object], prefix: str = "") -> Iterator[tuple[str, object]]:
    for pattern in patterns:
        route = prefix + str(getattr(pattern, "pattern", ""))
        nested = getattr(pattern, "url_patterns", None)
        if nested is not None:
            yield from _walk(nested, route)
        else:
            yield route, getattr(pattern, "callback", None)


def routed_views() -> list[RoutedView]:
    """
    Every URL pattern of `ROOT_URLCONF` whose view is a DRF `APIView` (viewsets included),
    in URLconf order. Empty when the URLconf cannot be loaded: Django's own URL checks report
    that.
    """
    from django.urls import get_resolver
    from rest_framework.views import APIView

    found = []
    try:
        for route, callback in _walk(get_resolver().url_patterns):
            view = getattr(callback, "cls", None)
            if isinstance(view, type) and issubclass(view, APIView):
                initkwargs = getattr(callback, "initkwargs", None) or {}
                found.append(RoutedView(route, view, initkwargs))
    except Exception:  # Django's own URL checks report a broken URLconf.
        return []
    return found


def routes(view: type[APIView]) -> bool:
    """Whether the URLconf routes `view` or a subclass of it anywhere."""
    return any(issubclass(routed.view, view) for routed in routed_views())
