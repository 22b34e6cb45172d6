"""
Async actions for daf_drf's generic views and viewsets, under DRF's names.

`list`, `create`, `retrieve`, `update`, `partial_update` and `destroy` are `async def`, so
DRF's routers, `self.action`, per-action permissions and drf-spectacular see exactly the
actions they know. `perform_create`, `perform_update` and `perform_destroy` are async too;
override them with `def` or `async def`:

    class BookViewSet(viewsets.ModelViewSet):
        def perform_create(self, serializer):          # runs in the pipeline's thread hop
            serializer.save(added_by=self.request.user)

        async def perform_destroy(self, instance):     # runs on the loop
            await instance.adelete()
            await notify_deleted(instance.pk)

Each mixin subclasses DRF's, so `isinstance(view, rest_framework.mixins.ListModelMixin)`
still holds. They expect daf_drf's `GenericAPIView` (see `daf_drf.generics` for the
one-hop guarantee). Action methods carry no docstrings on purpose: drf-spectacular would
publish them as your operations' descriptions.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from rest_framework import mixins as drf_mixins
from rest_framework import status
from rest_framework.response import Response

from daf_drf.serializers import _native, data_in_thread, resolve_awaitables
from daf_drf.transaction import request_atomic

__all__ = [
    "CreateModelMixin",
    "DestroyModelMixin",
    "ListModelMixin",
    "RetrieveModelMixin",
    "UpdateModelMixin",
    "awrite",
]

# The hooks each pipeline calls; see `GenericAPIView.runs_in_one_hop`.
LOOKUP_HOOKS = ("get_queryset", "filter_queryset")
SERIALIZER_HOOKS = ("get_serializer", "get_serializer_class", "get_serializer_context")
LIST_HOOKS = (
    "get_queryset",
    "filter_queryset",
    "paginate_queryset",
    "get_paginated_response",
    *SERIALIZER_HOOKS,
)


def _atomically(func: Callable[..., Any], *args: Any) -> Any:
    with request_atomic():
        return func(*args)


async def awrite(func: Callable[..., Any], *args: Any) -> Any:
    """
    Call a write hook (`perform_create` ...): awaited if async; if sync, in one thread hop
    inside `transaction.atomic` for each database that sets `ATOMIC_REQUESTS`.
    """
    if inspect.iscoroutinefunction(func):
        result = await func(*args)
    else:
        result = await sync_to_async(_atomically)(func, *args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _saves_in_thread(view: Any, name: str, default: Callable[..., Any]) -> bool:
    # The fused pipeline may save when the hook is ours or a sync override.
    func = getattr(type(view), name)
    return func is default or not inspect.iscoroutinefunction(func)


def _save(view: Any, name: str, default: Callable[..., Any], serializer: Any) -> bool:
    """In the pipeline's thread: save by the view's hook; False if it must run on the loop."""
    hook = getattr(view, name)
    if getattr(hook, "__func__", hook) is not default:
        hook(serializer)
    elif _native(serializer, "asave") is not None:
        return False  # the serializer saves natively async (adrf): the loop awaits it
    else:
        serializer.save()
    return True


def _forget_prefetch(instance: Any) -> None:
    # If 'prefetch_related' was applied to the queryset, the cache on the instance is stale
    # after the update (DRF does the same).
    if getattr(instance, "_prefetched_objects_cache", None):
        instance._prefetched_objects_cache = {}


class CreateModelMixin(drf_mixins.CreateModelMixin):
    # Create a model instance.

    async def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        view: Any = self
        if view.runs_in_one_hop(SERIALIZER_HOOKS) and _saves_in_thread(
            self, "perform_create", CreateModelMixin.perform_create
        ):
            serializer, slots = await sync_to_async(self._create_in_thread)(request)
            if slots is None:
                await self.perform_create(serializer)
                slots = await sync_to_async(data_in_thread)(serializer)
        else:
            serializer = await view.aget_serializer(data=request.data)
            await sync_to_async(serializer.is_valid)(raise_exception=True)
            await awrite(self.perform_create, serializer)
            slots = await sync_to_async(data_in_thread)(serializer)
        if slots:
            await resolve_awaitables(slots)
        data = serializer.data
        headers = await view.ahook(self.get_success_headers, data)
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)

    async def perform_create(self, serializer: Any) -> None:  # type: ignore[override]
        native = _native(serializer, "asave")
        if native is not None:
            await native()
        else:
            await sync_to_async(_atomically)(serializer.save)

    def _create_in_thread(self, request: Any) -> tuple[Any, Any]:
        view: Any = self
        with request_atomic():
            serializer = view.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            if not _save(self, "perform_create", CreateModelMixin.perform_create, serializer):
                return serializer, None
            return serializer, data_in_thread(serializer)


class ListModelMixin(drf_mixins.ListModelMixin):
    # List a queryset.

    async def list(self, request: Any, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        view: Any = self
        if view.runs_in_one_hop(LIST_HOOKS):
            response, serializer, paginated, slots = await sync_to_async(self._list_in_thread)()
            if response is not None:
                return response  # type: ignore[no-any-return]
            await resolve_awaitables(slots)
            data = serializer.data
        else:
            queryset = await view.afilter_queryset(await view.aget_queryset())
            page = await view.apaginate_queryset(queryset)
            serializer = await view.aget_serializer(queryset if page is None else page, many=True)
            slots = await sync_to_async(data_in_thread)(serializer)
            if slots:
                await resolve_awaitables(slots)
            data, paginated = serializer.data, page is not None
        if paginated:
            return await view.aget_paginated_response(data)  # type: ignore[no-any-return]
        return Response(data)

    def _list_in_thread(self) -> tuple[Any, Any, bool, Any]:
        view: Any = self
        queryset = view.filter_queryset(view.get_queryset())
        page = view.paginate_queryset(queryset)
        serializer = view.get_serializer(queryset if page is None else page, many=True)
        slots = data_in_thread(serializer)
        if slots:
            # Async attributes are awaited on the loop before the response is built.
            return None, serializer, page is not None, slots
        data = serializer.data
        if page is not None:
            return view.get_paginated_response(data), serializer, True, slots
        return Response(data), serializer, False, slots


class RetrieveModelMixin(drf_mixins.RetrieveModelMixin):
    # Retrieve a model instance.

    async def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        view: Any = self
        instance = await view.aget_object()
        serializer = await view.aget_serializer(instance)
        slots = await sync_to_async(data_in_thread)(serializer)
        if slots:
            await resolve_awaitables(slots)
        return Response(serializer.data)


class UpdateModelMixin(drf_mixins.UpdateModelMixin):
    # Update a model instance.

    async def update(self, request: Any, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        view: Any = self
        partial = kwargs.pop("partial", False)
        instance = await view.aget_object()
        if view.runs_in_one_hop(SERIALIZER_HOOKS) and _saves_in_thread(
            self, "perform_update", UpdateModelMixin.perform_update
        ):
            serializer, slots = await sync_to_async(self._update_in_thread)(
                request, instance, partial
            )
            if slots is None:
                await self.perform_update(serializer)
                _forget_prefetch(instance)
                slots = await sync_to_async(data_in_thread)(serializer)
        else:
            serializer = await view.aget_serializer(instance, data=request.data, partial=partial)
            await sync_to_async(serializer.is_valid)(raise_exception=True)
            await awrite(self.perform_update, serializer)
            _forget_prefetch(instance)
            slots = await sync_to_async(data_in_thread)(serializer)
        if slots:
            await resolve_awaitables(slots)
        return Response(serializer.data)

    async def perform_update(self, serializer: Any) -> None:  # type: ignore[override]
        native = _native(serializer, "asave")
        if native is not None:
            await native()
        else:
            await sync_to_async(_atomically)(serializer.save)

    async def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        kwargs["partial"] = True
        return await self.update(request, *args, **kwargs)

    def _update_in_thread(self, request: Any, instance: Any, partial: bool) -> tuple[Any, Any]:
        view: Any = self
        with request_atomic():
            serializer = view.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            if not _save(self, "perform_update", UpdateModelMixin.perform_update, serializer):
                return serializer, None
            _forget_prefetch(instance)
            return serializer, data_in_thread(serializer)


class DestroyModelMixin(drf_mixins.DestroyModelMixin):
    # Destroy a model instance.

    async def destroy(self, request: Any, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        view: Any = self
        instance = await view.aget_object()
        await awrite(self.perform_destroy, instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    async def perform_destroy(self, instance: Any) -> None:  # type: ignore[override]
        await sync_to_async(_atomically)(instance.delete)
