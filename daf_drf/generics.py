"""
Generic views with async handlers: DRF's `generics`, migrated by an import swap.

    from daf_drf import generics

    class BookList(generics.ListCreateAPIView):
        queryset = Book.objects.select_related("author")
        serializer_class = BookSerializer
        filter_backends = [DjangoFilterBackend, OrderingFilter]
        pagination_class = PageNumberPagination

Every class here subclasses its DRF namesake (so `isinstance` checks, drf-spectacular and
DRF's metadata keep recognising it) and daf_drf's async `APIView`.

Hooks keep DRF's names and each may be sync or `async def`: `get_queryset`,
`filter_queryset`, `paginate_queryset`, `get_paginated_response`, `get_serializer`,
`get_serializer_class`, `get_serializer_context`, `get_object`, `perform_create`,
`perform_update`, `perform_destroy`, `get_success_headers`. Their async siblings
(`aget_queryset`, `afilter_queryset`, `apaginate_queryset`, `aget_paginated_response`,
`aget_serializer`, `aget_object`) call whichever you wrote, by the hook rule.

Guarantees:

- When the hooks of a pipeline are sync (DRF's defaults included), the whole pipeline runs in
  **one** thread hop: `list` is filter -> paginate -> serialize -> `.data` -> paginated
  response; `create`/`update` are validate -> save -> `.data`. DRF's paginators, filter
  backends and django-filter's `DjangoFilterBackend` run there unchanged.
- With async hooks, they run on the loop and each remaining sync hook that may do I/O runs
  in its own hop. Never one hop per object or per field.
- `aget_object` evaluates the lookup off the loop and checks object permissions with
  `acheck_object_permissions` on the loop.
- No ORM call ever runs on the event loop.

DRF's own sync call sites (OPTIONS metadata, schema generators) call the sync hooks: keep
`get_serializer_class`, `get_serializer` and `get_queryset` sync if you use them.

The classes carry no docstrings on purpose: drf-spectacular walks a view's MRO for a
description, and daf_drf's text would end up in your schema where DRF's classes leave none.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework import generics as drf_generics
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from daf_drf import mixins
from daf_drf._one_hop import runs_in_one_hop
from daf_drf.hooks import (
    OWN_MODULES,
    answers_sync_callers,
    call_hook,
    project_override,
    resolve_sync,
)
from daf_drf.mixins import LOOKUP_HOOKS
from daf_drf.serializers import resolve_data_sync
from daf_drf.shortcuts import aget_object_or_404, get_object_or_404
from daf_drf.views import APIView

__all__ = [
    "CreateAPIView",
    "DestroyAPIView",
    "GenericAPIView",
    "ListAPIView",
    "ListCreateAPIView",
    "RetrieveAPIView",
    "RetrieveDestroyAPIView",
    "RetrieveUpdateAPIView",
    "RetrieveUpdateDestroyAPIView",
    "UpdateAPIView",
    "get_object_or_404",
]

_DRF = drf_generics.GenericAPIView

# The model of a view's queryset (DRF's stubs make its generic views generic in it; at run
# time DRF's `__class_getitem__` returns the class itself).
_MT = TypeVar("_MT", bound=Model)

# Hooks that DRF's own sync code calls on a view: the browsable API (its filter form and
# forms), DRF's metadata (OPTIONS), the schema generators and django-filter call them from a
# worker thread or a management command. An `async def` override of one of them answers there
# too (`hooks.answers_sync_callers`), and stays a coroutine function on the loop.
SYNC_CALLED_HOOKS = (
    "get_queryset",
    "get_object",
    "get_serializer",
    "get_serializer_class",
    "get_serializer_context",
)


class GenericAPIView(drf_generics.GenericAPIView[_MT], APIView):
    # DRF's GenericAPIView with async siblings of its hooks; see the module docstring.

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        # Wrapped where they are defined (a project's mixin included), so that `super()`
        # chains and daf_drf's override detection see the same classes as before.
        for klass in cls.__mro__:
            if klass.__module__.startswith(OWN_MODULES):
                continue
            for name in SYNC_CALLED_HOOKS:
                func = vars(klass).get(name)
                if inspect.iscoroutinefunction(func) and not getattr(
                    func, "answers_sync_callers", False
                ):
                    setattr(klass, name, answers_sync_callers(func))

    def runs_in_one_hop(self, hooks: tuple[str, ...]) -> bool:
        """
        Whether every hook in `hooks` is sync, its async sibling is daf_drf's own, and the
        filter backends and paginator it would call are sync: then the pipeline runs in one
        thread hop.
        """
        return runs_in_one_hop(self, hooks, vars(GenericAPIView))

    async def ahook(self, func: Callable[..., object], *args: object, **kwargs: object) -> Any:
        """
        Call a hook of this view (or of its paginator) by the hook rule: awaited if async,
        inline if pure (one of DRF's attribute-only defaults, or marked `inline_safe` on the
        function or its class, or listed in `INLINE_HOOKS`), else in one thread hop.
        """
        return await call_hook(getattr(func, "__self__", self), func, *args, **kwargs)

    # --- async siblings of DRF's hooks -----------------------------------------------------

    async def aget_queryset(self) -> QuerySet[_MT]:
        """`get_queryset()`, sync or async."""
        with project_override(self, "get_queryset") as override:
            if override is not None:
                queryset: QuerySet[_MT] = await self.ahook(override)
                return queryset
        return _DRF.get_queryset(self)

    async def afilter_queryset(self, queryset: QuerySet[_MT]) -> QuerySet[_MT]:
        """`filter_queryset()`, sync or async; async filter backends are awaited."""
        with project_override(self, "filter_queryset") as override:
            if override is not None:
                filtered: QuerySet[_MT] = await self.ahook(override, queryset)
                return filtered
        backends = [backend() for backend in self.filter_backends]
        if not any(inspect.iscoroutinefunction(b.filter_queryset) for b in backends):
            if not backends:
                return queryset
            # Sync backends (DRF's, django-filter's) may query the database: one hop for all.
            filtered = await sync_to_async(self.filter_queryset)(queryset)
            return filtered
        for backend in backends:
            queryset = await call_hook(
                backend, backend.filter_queryset, self.request, queryset, self
            )
        return queryset

    async def apaginate_queryset(self, queryset: QuerySet[_MT]) -> Sequence[_MT] | None:
        """`paginate_queryset()`, sync or async; `None` when pagination is off."""
        with project_override(self, "paginate_queryset") as override:
            if override is not None:
                page: Sequence[_MT] | None = await self.ahook(override, queryset)
                return page
        paginator = self.paginator
        if paginator is None:
            return None
        page = await call_hook(paginator, paginator.paginate_queryset, queryset, self.request, self)
        return page

    async def aget_paginated_response(self, data: object) -> Response:
        """`get_paginated_response()`, sync or async."""
        with project_override(self, "get_paginated_response") as override:
            if override is not None:
                response: Response = await self.ahook(override, data)
                return response
        paginator = self.paginator
        if paginator is None:
            raise ImproperlyConfigured(
                f"{type(self).__qualname__}.get_paginated_response() needs a pagination_class."
            )
        response = await self.ahook(paginator.get_paginated_response, data)
        return response

    async def aget_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer[_MT]:
        """`get_serializer()`, with `get_serializer_class`/`_context` each sync or async."""
        with project_override(self, "get_serializer") as override:
            if override is not None:
                serializer: BaseSerializer[_MT] = await self.ahook(override, *args, **kwargs)
                return serializer
        serializer_class: type[BaseSerializer[_MT]] = await self.ahook(self.get_serializer_class)
        if "context" not in kwargs:
            kwargs["context"] = await self.ahook(self.get_serializer_context)
        return serializer_class(*args, **kwargs)

    async def aget_object(self) -> _MT:
        """
        The object the view displays: the lookup runs off the loop (one hop when
        `get_queryset`/`filter_queryset` are sync), then `acheck_object_permissions` runs on
        the loop. An overridden `get_object` (sync or async) is called instead.
        """
        with project_override(self, "get_object") as override:
            if override is not None:
                found: _MT = await self.ahook(override)
                return found
        if self.runs_in_one_hop(LOOKUP_HOOKS):
            obj = await sync_to_async(self._lookup_in_thread)()
        else:
            queryset = await self.afilter_queryset(await self.aget_queryset())
            obj = await aget_object_or_404(queryset, **self.get_lookup_kwargs())
        await self._arun_object_checks(self.request, obj)  # type: ignore[arg-type]
        return obj

    def lookup_joins_next_hop(self, hooks: tuple[str, ...]) -> bool:
        """
        Whether `get_object()` can run in the same thread hop as the work after it that calls
        `hooks` (the serializer's, a write's): the lookup is daf_drf's own with sync
        `get_queryset`/`filter_queryset`, and no permission of the view can deny an object.
        That holds when each permission's `has_object_permission` is DRF's
        `BasePermission.has_object_permission` (it answers True and reads nothing) and none
        has an async `ahas_object_permission`; composites (`&`, `|`, `~`) and a project's
        `get_object`, `check_object_permissions` or `acheck_object_permissions` keep the
        lookup, the object check and the serializer in DRF's order, two hops.
        `get_permissions()` is called once here, as DRF's `check_object_permissions` would.
        """
        for name in ("get_object", "acheck_object_permissions", "check_object_permissions"):
            with project_override(self, name) as override:
                if override is not None:
                    return False  # the project's own object check runs, in DRF's order
        if not self.runs_in_one_hop((*LOOKUP_HOOKS, *hooks)):
            return False
        return all(_allows_every_object(permission) for permission in self.get_permissions())

    def get_lookup_kwargs(self) -> dict[str, Any]:
        """The ORM lookup for `get_object`, from `lookup_field` and the URL kwargs."""
        lookup_url_kwarg = self.lookup_url_kwarg or self.lookup_field
        if lookup_url_kwarg not in self.kwargs:
            raise ImproperlyConfigured(
                f"Expected view {type(self).__name__} to be called with a URL keyword argument "
                f'named "{lookup_url_kwarg}". Fix your URL conf, or set the `.lookup_field` '
                "attribute on the view correctly."
            )
        return {self.lookup_field: self.kwargs[lookup_url_kwarg]}

    # --- DRF's sync call sites ---------------------------------------------------------------
    # DRF's metadata (OPTIONS), browsable API and schema generators call these synchronously,
    # from worker threads or management commands. They accept async hooks: an awaitable is
    # awaited there through `async_to_sync`, and refused on the event loop (`resolve_sync`).

    def get_serializer(self, *args: Any, **kwargs: Any) -> BaseSerializer[_MT]:
        name = type(self).__qualname__
        serializer_class = resolve_sync(
            self.get_serializer_class(), what=f"{name}.get_serializer_class"
        )
        if "context" not in kwargs:
            kwargs["context"] = resolve_sync(
                self.get_serializer_context(), what=f"{name}.get_serializer_context"
            )
        # The browsable API reads `.data` of this serializer in its worker thread: async
        # attributes (an `async def` SerializerMethodField) are awaited there in one hop.
        serializer: BaseSerializer[_MT] = resolve_data_sync(serializer_class(*args, **kwargs))
        return serializer

    def filter_queryset(self, queryset: Any) -> Any:
        for backend in list(self.filter_backends):
            queryset = resolve_sync(
                backend().filter_queryset(self.request, queryset, self),
                what=f"{backend.__qualname__}.filter_queryset",
            )
        return queryset

    def get_object(self) -> _MT:
        name = type(self).__qualname__
        queryset = resolve_sync(self.get_queryset(), what=f"{name}.get_queryset")
        queryset = resolve_sync(self.filter_queryset(queryset), what=f"{name}.filter_queryset")
        obj: _MT = get_object_or_404(queryset, **self.get_lookup_kwargs())
        # May raise a permission denied.
        self.check_object_permissions(self.request, obj)
        return obj

    def _lookup_in_thread(self) -> _MT:
        queryset = self.filter_queryset(self.get_queryset())
        found: _MT = get_object_or_404(queryset, **self.get_lookup_kwargs())
        return found


def _allows_every_object(permission: object) -> bool:
    """Whether `permission`'s object check is DRF's default, which allows every object."""
    if getattr(permission, "ahas_object_permission", None) is not None:
        return False
    method = getattr(type(permission), "has_object_permission", None)
    return method is BasePermission.has_object_permission


# Concrete views: DRF's handlers, async, composed from daf_drf's mixins.


class CreateAPIView(mixins.CreateModelMixin, drf_generics.CreateAPIView[_MT], GenericAPIView[_MT]):
    async def post(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.create(request, *args, **kwargs)


class ListAPIView(mixins.ListModelMixin, drf_generics.ListAPIView[_MT], GenericAPIView[_MT]):
    async def get(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.list(request, *args, **kwargs)


class RetrieveAPIView(
    mixins.RetrieveModelMixin, drf_generics.RetrieveAPIView[_MT], GenericAPIView[_MT]
):
    async def get(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.retrieve(request, *args, **kwargs)


class DestroyAPIView(
    mixins.DestroyModelMixin, drf_generics.DestroyAPIView[_MT], GenericAPIView[_MT]
):
    async def delete(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.destroy(request, *args, **kwargs)


class UpdateAPIView(mixins.UpdateModelMixin, drf_generics.UpdateAPIView[_MT], GenericAPIView[_MT]):
    async def put(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.update(request, *args, **kwargs)

    async def patch(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.partial_update(request, *args, **kwargs)


class ListCreateAPIView(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    drf_generics.ListCreateAPIView[_MT],
    GenericAPIView[_MT],
):
    async def get(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.list(request, *args, **kwargs)

    async def post(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.create(request, *args, **kwargs)


class RetrieveUpdateAPIView(
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    drf_generics.RetrieveUpdateAPIView[_MT],
    GenericAPIView[_MT],
):
    async def get(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.retrieve(request, *args, **kwargs)

    async def put(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.update(request, *args, **kwargs)

    async def patch(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.partial_update(request, *args, **kwargs)


class RetrieveDestroyAPIView(
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    drf_generics.RetrieveDestroyAPIView[_MT],
    GenericAPIView[_MT],
):
    async def get(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.retrieve(request, *args, **kwargs)

    async def delete(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.destroy(request, *args, **kwargs)


class RetrieveUpdateDestroyAPIView(
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    drf_generics.RetrieveUpdateDestroyAPIView[_MT],
    GenericAPIView[_MT],
):
    async def get(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.retrieve(request, *args, **kwargs)

    async def put(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.update(request, *args, **kwargs)

    async def patch(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.partial_update(request, *args, **kwargs)

    async def delete(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        return await self.destroy(request, *args, **kwargs)
