"""
Which pipelines of a daf_drf generic view run in one thread hop.

A pipeline (`list`: filter -> paginate -> serialize -> paginated response; `create`/`update`:
validate -> save -> `.data`) runs in **one** hop when every hook it calls is sync and leaves
its async sibling to daf_drf, and the filter backends and paginator it would call are sync.
The answer for a class is computed once; hooks assigned on an instance and per-instance
backends are checked on each call.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Protocol

from daf_drf.hooks import is_async_hook

__all__ = ["PipelineView", "runs_in_one_hop"]


class PipelineView(Protocol):
    """What the planner reads of a generic view."""

    @property
    def filter_backends(self) -> Sequence[object]: ...

    @property
    def pagination_class(self) -> object: ...


# Sync hook -> its async sibling. A pipeline runs in one hop only if every hook it calls is
# sync and no async sibling is overridden.
_SIBLINGS: dict[str, str | None] = {
    "get_queryset": "aget_queryset",
    "filter_queryset": "afilter_queryset",
    "paginate_queryset": "apaginate_queryset",
    "get_paginated_response": "aget_paginated_response",
    "get_serializer": "aget_serializer",
    "get_serializer_class": None,
    "get_serializer_context": None,
    "get_object": "aget_object",
}

_ONE_HOP: dict[tuple[type, tuple[str, ...]], bool] = {}


def _sync_hooks(owner: object, defaults: Mapping[str, object], hooks: tuple[str, ...]) -> bool:
    """
    Whether the hooks `owner` (a view class, or an instance's `__dict__`) has for `hooks` are
    sync and leave their async siblings to daf_drf. A name `owner` lacks is skipped.
    """
    members: Mapping[str, object] = owner if isinstance(owner, dict) else {}
    for name in hooks:
        func = members.get(name) if members else getattr(owner, name, None)
        if callable(func) and is_async_hook(func):
            return False
        sibling = _SIBLINGS.get(name)
        if sibling:
            func = members.get(sibling) if members else getattr(owner, sibling, None)
            if func is not None and func is not defaults.get(sibling):
                return False
    return True


def runs_in_one_hop(
    view: PipelineView, hooks: tuple[str, ...], defaults: Mapping[str, object]
) -> bool:
    """
    Whether every hook in `hooks` is sync, its async sibling is daf_drf's own (`defaults`: the
    members of daf_drf's `GenericAPIView`), and the filter backends and paginator it would
    call are sync: then the pipeline runs in one thread hop.
    """
    cls = type(view)
    key = (cls, hooks)
    cached = _ONE_HOP.get(key)
    if cached is None:
        cached = _sync_hooks(cls, defaults, hooks)
        _ONE_HOP[key] = cached
    if not cached:
        return False
    # A hook assigned on the instance (`self.get_object = self.get_me`) counts too.
    if view.__dict__ and not _sync_hooks(view.__dict__, {}, hooks):
        return False
    # DRF's own filter_queryset/paginate_queryset call backends and paginators, which
    # may be async themselves (and may be set per instance through as_view()).
    if "filter_queryset" in hooks and any(
        inspect.iscoroutinefunction(getattr(backend, "filter_queryset", None))
        for backend in view.filter_backends
    ):
        return False
    paginator_class = view.pagination_class
    if "paginate_queryset" in hooks and paginator_class is not None:
        return not any(
            inspect.iscoroutinefunction(getattr(paginator_class, name, None))
            for name in ("paginate_queryset", "get_paginated_response")
        )
    return True
