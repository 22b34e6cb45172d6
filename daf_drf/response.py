"""
Rendering daf_drf responses on the event loop.

Django's async handler renders any response that has a sync `render()` through
`sync_to_async(response.render, thread_sensitive=True)`, even one that is already rendered,
and DRF's `Response` is a `SimpleTemplateResponse`. For a JSON body that is a thread hop (and,
under the stock handler, the request's first thread) spent on CPU-only work.

daf_drf views hand Django a `LoopRenderedResponse` instead of a DRF `Response` whose renderer
is known to be pure. Its `render()` is marked as a coroutine function, so Django awaits it on
the loop; it renders with DRF's own code, so bytes and headers are DRF's. Renderers that may do
I/O (`BrowsableAPIRenderer`, `TemplateHTMLRenderer`, `AdminRenderer`, any unknown renderer)
keep the plain `Response` and render in Django's one hop, as before.

A renderer is pure by the hook rule (`daf_drf.hooks.is_inline_safe`): it is one of
`PURE_RENDERERS` (exactly), or is marked with `daf_drf.hooks.inline_safe`, or is registered
with `daf_drf.hooks.register_inline_safe`, or is listed in `DAF_DRF["INLINE_HOOKS"]`:

    @inline_safe
    class CamelCaseJSONRenderer(JSONRenderer):
        ...
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

from asgiref.sync import markcoroutinefunction, sync_to_async
from django.core.exceptions import SynchronousOnlyOperation
from django.template.response import SimpleTemplateResponse
from rest_framework.response import Response

from daf_drf.hooks import is_inline_safe, on_event_loop, pure_renderers

__all__ = ["PURE_RENDERERS", "LoopRenderedResponse", "is_pure_renderer", "render_on_loop"]

# DRF's renderers that encode `data` and touch nothing else (`daf_drf.hooks` keeps the list).
PURE_RENDERERS: frozenset[type] = pure_renderers()


def is_pure_renderer(renderer: Any) -> bool:
    """Whether `renderer` (an instance) may render on the event loop."""
    return renderer is not None and is_inline_safe(renderer, renderer.render)


def _render(self: LoopRenderedResponse) -> Any:
    """
    Render with DRF's code and return the response, like `SimpleTemplateResponse.render`.

    On the event loop thread the rendering is left to Django's `await` (see `__await__`) when
    it might block: the renderer is not pure, a post-render callback is registered (cache
    middleware stores the response there), or the data turns out to need the ORM.
    """
    if not self.is_rendered and on_event_loop():
        callbacks = self._post_render_callbacks  # type: ignore[attr-defined]
        if callbacks or not is_pure_renderer(getattr(self, "accepted_renderer", None)):
            self._daf_render_in_thread = True
            return self
        try:
            return SimpleTemplateResponse.render(self)
        except SynchronousOnlyOperation:
            # Lazy data (a queryset) that DRF's encoder evaluates: render in one hop instead.
            self._daf_render_in_thread = True
            return self
    return SimpleTemplateResponse.render(self)


class LoopRenderedResponse(Response):
    """
    A DRF `Response` that Django's async handler renders on the event loop.

    It behaves as DRF's `Response` for every caller: `render()` renders and returns the
    response. Django's async handler sees `render` as a coroutine function and awaits its
    result; awaiting the response returns it, rendered (in one thread hop if rendering could
    not happen on the loop).
    """

    _daf_render_in_thread = False

    render = markcoroutinefunction(_render)

    def __await__(self) -> Generator[Any, None, Any]:
        if self._daf_render_in_thread:
            self._daf_render_in_thread = False
            hop = sync_to_async(SimpleTemplateResponse.render, thread_sensitive=True)
            return (yield from hop(self).__await__())
        return self


def render_on_loop(response: Any) -> Any:
    """
    Let Django render `response` on the loop if it is a DRF `Response` with a pure renderer.

    Only DRF's own `Response` class is switched (to `LoopRenderedResponse`, same state and
    behaviour); subclasses may override rendering and keep Django's thread hop.
    """
    if (
        type(response) is Response
        and not response.is_rendered
        and is_pure_renderer(getattr(response, "accepted_renderer", None))
    ):
        response.__class__ = LoopRenderedResponse
    return response
