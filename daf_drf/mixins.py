"""
Async actions for daf_drf's generic views and viewsets, under DRF's names.

`list`, `create`, `retrieve`, `update`, `partial_update` and `destroy` are `async def`, so
DRF's routers, `self.action`, per-action permissions and drf-spectacular see exactly the
actions they know. Override `perform_create`, `perform_update` and `perform_destroy` with
`def` or `async def`, and call `super()` as in DRF:

    class BookViewSet(viewsets.ModelViewSet):
        def perform_create(self, serializer):          # runs in the pipeline's thread hop
            serializer.validated_data["added_by"] = self.request.user
            super().perform_create(serializer)         # saves, as DRF's does

        async def perform_destroy(self, instance):     # runs on the loop
            await super().perform_destroy(instance)    # deletes in one thread hop
            await notify_deleted(instance.pk)

daf_drf's own `perform_*` are *dual-mode*: called from sync code (no event loop in this thread,
such as the thread hop that runs a sync override) they do what DRF's do, synchronously; called
on the event loop they return an awaitable that does it off the loop. The actions call them
through their async siblings `aperform_create`, `aperform_update` and `aperform_destroy`, which
apply the hook rule to whichever `perform_*` the view has (a class override or one assigned on
the instance).

Each mixin subclasses DRF's, so `isinstance(view, rest_framework.mixins.ListModelMixin)`
still holds. They expect daf_drf's `GenericAPIView` (see `daf_drf.generics` for the
one-hop guarantee). Action methods carry no docstrings on purpose: drf-spectacular would
publish them as your operations' descriptions.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db.models import Model
from rest_framework import mixins as drf_mixins
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from daf_drf.hooks import is_async_hook, on_event_loop, overrides, project_override, resolve_sync
from daf_drf.serializers import data_in_thread, native_async_method, resolve_awaitables
from daf_drf.transaction import request_atomic

__all__ = [
    "CreateModelMixin",
    "DestroyModelMixin",
    "ListModelMixin",
    "RetrieveModelMixin",
    "UpdateModelMixin",
    "awrite",
]

T = TypeVar("T")

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


def _atomically(func: Callable[..., T], *args: object) -> T:
    with request_atomic():
        return func(*args)


async def awrite(func: Callable[..., object], *args: object) -> Any:
    """
    Call a write hook (`perform_create` ...): awaited if async; if sync, in one thread hop
    inside `transaction.atomic` for each database that sets `ATOMIC_REQUESTS`.
    """
    if is_async_hook(func):
        result = func(*args)
    else:
        result = await sync_to_async(_atomically)(func, *args)
    if inspect.isawaitable(result):
        result = await result
    return result


def _view_hook(view: object, name: str) -> Callable[..., object]:
    """The hook `name` the view will call: one assigned on the instance, else the class's."""
    hook: Callable[..., object] = view.__dict__.get(name) or getattr(type(view), name)
    return hook


def _raw(func: object) -> object:
    return getattr(func, "__func__", func)


def _saves_in_thread(view: object, name: str, default: Callable[..., object]) -> bool:
    # The fused pipeline may save when the hook is ours or a sync override, and its async
    # sibling (`aperform_create` ...) is daf_drf's own.
    if overrides(view, "a" + name, _DEFAULT_SIBLINGS[name]):
        return False
    func = _view_hook(view, name)
    return _raw(func) is default or not is_async_hook(func)


def _save(view: object, name: str, default: Callable[..., object], serializer: Any) -> bool:
    """In the pipeline's thread: save by the view's hook; False if it must run on the loop."""
    hook = getattr(view, name)
    if _raw(hook) is not default:
        resolve_sync(hook(serializer), what=f"{type(view).__qualname__}.{name}")
    elif native_async_method(serializer, "asave") is not None:
        return False  # the serializer saves natively async (adrf): the loop awaits it
    else:
        serializer.save()
    return True


async def _asave(serializer: Any) -> None:
    """daf_drf's default save on the loop: the serializer's native `asave`, else one hop."""
    native = native_async_method(serializer, "asave")
    if native is not None:
        await native()
    else:
        await sync_to_async(_atomically)(serializer.save)


async def _adelete(instance: Model) -> None:
    await sync_to_async(_atomically)(instance.delete)


async def _acall_write_hook(
    view: object, name: str, default: Callable[[T], Awaitable[None]], arg: T
) -> None:
    # The view's `perform_*` by the hook rule (sync in one atomic hop); daf_drf's own saves
    # without a wrapper hop.
    with project_override(view, name) as override:
        if override is not None:
            await awrite(override, arg)
            return
    await default(arg)


def _forget_prefetch(instance: Any) -> None:
    # If 'prefetch_related' was applied to the queryset, the cache on the instance is stale
    # after the update (DRF does the same).
    if getattr(instance, "_prefetched_objects_cache", None):
        instance._prefetched_objects_cache = {}


class CreateModelMixin(drf_mixins.CreateModelMixin):
    # Create a model instance.

    async def create(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        view: Any = self
        if view.runs_in_one_hop(SERIALIZER_HOOKS) and _saves_in_thread(
            self, "perform_create", CreateModelMixin.perform_create
        ):
            serializer, slots = await sync_to_async(self._create_in_thread)(request)
            if slots is None:
                await _asave(serializer)
                slots = await sync_to_async(data_in_thread)(serializer)
        else:
            serializer = await view.aget_serializer(data=request.data)
            await sync_to_async(serializer.is_valid)(raise_exception=True)
            await self.aperform_create(serializer)
            slots = await sync_to_async(data_in_thread)(serializer)
        if slots:
            await resolve_awaitables(slots)
        data = serializer.data
        headers = await view.ahook(self.get_success_headers, data)
        return Response(data, status=status.HTTP_201_CREATED, headers=headers)

    def perform_create(self, serializer: Any) -> Any:
        """
        DRF's `perform_create`: `serializer.save()`. Dual-mode: on the event loop it returns an
        awaitable that saves off the loop (or through the serializer's native `asave`).
        """
        if on_event_loop():
            return _asave(serializer)
        serializer.save()
        return None

    async def aperform_create(self, serializer: Any) -> None:
        """Call the view's `perform_create` (sync or async, class or instance) by the hook rule."""
        await _acall_write_hook(self, "perform_create", _asave, serializer)

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

    async def list(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
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

    async def retrieve(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        view: Any = self
        if view.lookup_joins_next_hop(SERIALIZER_HOOKS):
            # Lookup, serializer and `.data` in one hop: no object permission can deny.
            serializer, slots = await sync_to_async(self._retrieve_in_thread)()
        else:
            instance = await view.aget_object()
            serializer = await view.aget_serializer(instance)
            slots = await sync_to_async(data_in_thread)(serializer)
        if slots:
            await resolve_awaitables(slots)
        return Response(serializer.data)

    def _retrieve_in_thread(self) -> tuple[Any, Any]:
        view: Any = self
        serializer = view.get_serializer(view._lookup_in_thread())
        return serializer, data_in_thread(serializer)


class UpdateModelMixin(drf_mixins.UpdateModelMixin):
    # Update a model instance.

    async def update(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        view: Any = self
        partial = kwargs.pop("partial", False)
        if view.runs_in_one_hop(SERIALIZER_HOOKS) and _saves_in_thread(
            self, "perform_update", UpdateModelMixin.perform_update
        ):
            # The lookup joins the write's hop (inside ATOMIC_REQUESTS' transaction, as in
            # DRF) when no object permission can deny; else it is a hop of its own first.
            found = None
            if not view.lookup_joins_next_hop(SERIALIZER_HOOKS):
                found = await view.aget_object()
            instance, serializer, slots = await sync_to_async(self._update_in_thread)(
                request, found, partial
            )
            if slots is None:
                await _asave(serializer)
                _forget_prefetch(instance)
                slots = await sync_to_async(data_in_thread)(serializer)
        else:
            instance = await view.aget_object()
            serializer = await view.aget_serializer(instance, data=request.data, partial=partial)
            await sync_to_async(serializer.is_valid)(raise_exception=True)
            await self.aperform_update(serializer)
            _forget_prefetch(instance)
            slots = await sync_to_async(data_in_thread)(serializer)
        if slots:
            await resolve_awaitables(slots)
        return Response(serializer.data)

    def perform_update(self, serializer: Any) -> Any:
        """DRF's `perform_update`: `serializer.save()`; dual-mode like `perform_create`."""
        if on_event_loop():
            return _asave(serializer)
        serializer.save()
        return None

    async def aperform_update(self, serializer: Any) -> None:
        """Call the view's `perform_update` (sync or async, class or instance) by the hook rule."""
        await _acall_write_hook(self, "perform_update", _asave, serializer)

    async def partial_update(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        kwargs["partial"] = True
        return await self.update(request, *args, **kwargs)

    def _update_in_thread(
        self, request: Any, instance: Any, partial: object
    ) -> tuple[Any, Any, Any]:
        view: Any = self
        with request_atomic():
            if instance is None:
                instance = view._lookup_in_thread()
            serializer = view.get_serializer(instance, data=request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            if not _save(self, "perform_update", UpdateModelMixin.perform_update, serializer):
                return instance, serializer, None
            _forget_prefetch(instance)
            return instance, serializer, data_in_thread(serializer)


class DestroyModelMixin(drf_mixins.DestroyModelMixin):
    # Destroy a model instance.

    async def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:  # type: ignore[override]
        view: Any = self
        instance = await view.aget_object()
        await self.aperform_destroy(instance)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, instance: Any) -> Any:
        """DRF's `perform_destroy`: `instance.delete()`; dual-mode like `perform_create`."""
        if on_event_loop():
            return _adelete(instance)
        instance.delete()
        return None

    async def aperform_destroy(self, instance: Any) -> None:
        """Call the view's `perform_destroy` (sync or async, class or instance) by the hook rule."""
        await _acall_write_hook(self, "perform_destroy", _adelete, instance)


_DEFAULT_SIBLINGS: dict[str, type] = {
    "perform_create": CreateModelMixin,
    "perform_update": UpdateModelMixin,
    "perform_destroy": DestroyModelMixin,
}
