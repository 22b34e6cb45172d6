"""
Async helpers for DRF serializers.

DRF's serializers work unchanged in daf_drf views. Their validation (validators,
`UniqueValidator`, related-field querysets), `save()` and `.data` are sync and may touch the
ORM, so each runs off the event loop in **one** thread hop per call, never one hop per field
or per object:

    serializer = BookSerializer(data=request.data)
    await ais_valid(serializer, raise_exception=True)
    await asave(serializer, owner=user)
    return Response(await adata(serializer), status=201)

or, with `AsyncSerializerMixin` in the serializer's bases, the same calls as methods
(`await serializer.ais_valid(...)`, `await serializer.asave()`, `await serializer.adata()`).

Async attributes are awaited on the loop after the hop: an `async def` getter of a
`SerializerMethodField`, an async model property or an `async def` model method named as a
field's source produce coroutines while DRF builds `.data`; `adata()` then awaits each one, in
order, and puts its result in place. With `AsyncSerializerMixin`, a typed field
(`CharField(source="async_property")`) also gets the awaited value, converted by the field's
own `to_representation`.

Serializers that bring their own async API (adrf's `asave`) are awaited natively.

DRF's own sync call sites (the browsable API's forms, run in a worker thread) read
`serializer.data` themselves. daf_drf's `get_serializer()` hands them a serializer whose `.data`
is already built, with its async attributes awaited on the loop in one hop (`resolve_data_sync`).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from asgiref.sync import async_to_sync, sync_to_async
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from daf_drf.hooks import on_event_loop

if TYPE_CHECKING:
    from django.db.models import Model

__all__ = [
    "AsyncSerializerMixin",
    "adata",
    "ais_valid",
    "asave",
    "data_in_thread",
    "find_awaitables",
    "may_hold_awaitables",
    "native_async_method",
    "resolve_awaitables",
    "resolve_data_sync",
]

S = TypeVar("S")

# (container, key, awaitable): where an awaitable sits in serialized data. The key is a dict key
# or a list index; serializers are duck-typed (DRF's, adrf's, this mixin), so they are `Any`.
Slot = tuple["dict[Any, object] | list[object]", Any, "_Pending | Awaitable[object]"]


class _Pending:
    """An async attribute of a typed field: awaited, then converted by `field`."""

    __slots__ = ("awaitable", "field")

    def __init__(self, awaitable: Awaitable[object], field: Any) -> None:
        self.awaitable = awaitable
        self.field = field

    async def resolve(self) -> object:
        value = await self.awaitable
        if value is None:
            return None
        return self.field.to_representation(value)


def _is_pending(value: object) -> TypeGuard[_Pending | Awaitable[object]]:
    return type(value) is _Pending or inspect.isawaitable(value)


def find_awaitables(data: object) -> list[Slot]:
    """
    Return, in document order, the slots of `data` (nested dicts and lists, as DRF's `.data`
    builds them) that hold an awaitable: a type check per value.
    """
    slots: list[Slot] = []
    if isinstance(data, dict | list):
        _collect(data, slots)
    return slots


def _collect(node: dict[Any, object] | list[object], slots: list[Slot]) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        kind = type(value)
        if kind is str or kind is int or kind is float or kind is bool or value is None:
            continue
        if isinstance(value, dict | list):
            _collect(value, slots)
        elif _is_pending(value):
            slots.append((node, key, value))


def _close(value: object) -> None:
    awaitable = value.awaitable if type(value) is _Pending else value
    close = getattr(awaitable, "close", None)
    if close is not None:
        close()


async def resolve_awaitables(slots: list[Slot]) -> None:
    """
    Await every slot found by `find_awaitables`, one after the other on the running loop,
    and store each result in place (results that hold awaitables are resolved too). If one
    raises, the remaining coroutines are closed, never left un-awaited, and the error
    propagates.
    """
    for index, (container, key, value) in enumerate(slots):
        try:
            result = await value.resolve() if isinstance(value, _Pending) else await value
            holder = [result]
            nested = find_awaitables(holder)
            if nested:
                await resolve_awaitables(nested)
        except BaseException:
            for _, _, rest in slots[index + 1 :]:
                _close(rest)
            raise
        container[key] = holder[0]


def native_async_method(serializer: object, name: str) -> Callable[..., Awaitable[Any]] | None:
    """The serializer's own async `name` (adrf style), if it has one that isn't ours."""
    method = getattr(type(serializer), name, None)
    if method is None or not inspect.iscoroutinefunction(method):
        return None
    if method is getattr(AsyncSerializerMixin, name, None):
        return None
    native: Callable[..., Awaitable[Any]] = getattr(serializer, name)
    return native


_PLAIN_MODULES = ("rest_framework.fields", "rest_framework.relations")


# (model, attribute name) -> whether reading it is sync. Asked per field of every model
# serializer's output, and `get_field` answers a property or a method with an exception.
_SYNC_MODEL_ATTRIBUTES: dict[tuple[type[Model], str], bool] = {}


def _model_attribute_is_sync(model: type[Model], name: str) -> bool:
    key = (model, name)
    known = _SYNC_MODEL_ATTRIBUTES.get(key)
    if known is None:
        known = _SYNC_MODEL_ATTRIBUTES[key] = _read_model_attribute_is_sync(model, name)
    return known


def _read_model_attribute_is_sync(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except Exception:  # not a model field: a property or a method
        attr = inspect.getattr_static(model, name, None)
        func = attr.fget if isinstance(attr, property) else attr
        return func is not None and not inspect.iscoroutinefunction(func)
    return True


def may_hold_awaitables(serializer: Any) -> bool:
    """
    Whether `serializer.data` may contain awaitables, decided from its fields alone so that
    plain model serializers skip the walk over their output.

    It answers False only when every readable field is one of DRF's own field classes
    reading a model field or a sync model attribute, a sync `SerializerMethodField`, or a
    nested serializer of the same kind. Anything it cannot see through (a custom field, a
    non-model serializer, `source="*"`) counts as "may".
    """
    from rest_framework import serializers as drf_serializers

    child = getattr(serializer, "child", None)
    if isinstance(serializer, drf_serializers.ListSerializer) and child is not None:
        return may_hold_awaitables(child)
    model = getattr(getattr(serializer, "Meta", None), "model", None)
    if model is None or isinstance(serializer, AsyncSerializerMixin):
        return True
    return any(_field_may_await(serializer, model, f) for f in serializer._readable_fields)


def _field_may_await(serializer: Any, model: type[Model], field: Any) -> bool:
    from rest_framework import serializers as drf_serializers

    if isinstance(field, drf_serializers.BaseSerializer):
        return may_hold_awaitables(field)
    if isinstance(field, drf_serializers.SerializerMethodField):
        return inspect.iscoroutinefunction(getattr(serializer, field.method_name, None))
    if type(field).__module__ not in _PLAIN_MODULES or len(field.source_attrs) != 1:
        return True
    return not _model_attribute_is_sync(model, field.source_attrs[0])


def data_in_thread(serializer: Any) -> list[Slot]:
    """
    Build `serializer.data` (call it in a worker thread) and return the awaitables in it.

    The slots point into the serializer's cached `_data`, so resolving them fixes every later
    `serializer.data` too (DRF's `.data` wraps a shallow copy of `_data` on each access).
    """
    serializer.data  # noqa: B018
    if not may_hold_awaitables(serializer):
        return []
    return find_awaitables(serializer._data)


def resolve_data_sync(serializer: S) -> S:
    """
    Build `serializer.data` now, for a sync caller off the event loop, with every async
    attribute awaited; return the serializer.

    DRF's browsable API builds its forms in a worker thread: it calls `get_serializer(instance)`
    and reads `.data`, where an `async def` `SerializerMethodField` getter would leave a
    coroutine. Here the data is built in the calling thread and its awaitables are awaited in
    **one** `async_to_sync` hop (on the request's event loop when called from its worker
    thread), so later `.data` reads hold the results.

    It does nothing on the event loop thread (async code awaits `adata()`), for a serializer
    without an instance or with input data, for a list (`many=True`: daf_drf's own list
    pipeline resolves those on the loop after its hop, and DRF's forms never build one), and
    for serializers whose output cannot hold awaitables (`may_hold_awaitables`).
    """
    from rest_framework.serializers import ListSerializer

    if (
        isinstance(serializer, ListSerializer)
        or on_event_loop()
        or getattr(serializer, "instance", None) is None
        or hasattr(serializer, "initial_data")
        or hasattr(serializer, "_data")
        or not may_hold_awaitables(serializer)
    ):
        return serializer
    slots = data_in_thread(serializer)
    if slots:
        async_to_sync(resolve_awaitables)(slots)
    return serializer


async def ais_valid(serializer: Any, *, raise_exception: bool = False) -> bool:
    """
    Run `serializer.is_valid()` in one thread hop (validators and related-field lookups may
    query the database). Raises DRF's `ValidationError` if `raise_exception` is set.
    """
    native = native_async_method(serializer, "ais_valid")
    if native is not None:
        return bool(await native(raise_exception=raise_exception))
    return bool(await sync_to_async(serializer.is_valid)(raise_exception=raise_exception))


async def asave(serializer: Any, **kwargs: object) -> Any:
    """
    Save a validated serializer: its own `async def asave` if it has one (adrf's
    serializers), else `serializer.save(**kwargs)` in one thread hop. Returns the instance.
    """
    native = native_async_method(serializer, "asave")
    if native is not None:
        return await native(**kwargs)
    return await sync_to_async(serializer.save)(**kwargs)


async def adata(serializer: Any) -> Any:
    """
    Return `serializer.data`, built in one thread hop (reading related objects may query the
    database), with every async attribute awaited on the loop afterwards.
    """
    if hasattr(serializer, "_data"):
        slots = find_awaitables(serializer._data) if may_hold_awaitables(serializer) else []
    else:
        slots = await sync_to_async(data_in_thread)(serializer)
    if slots:
        await resolve_awaitables(slots)
    return serializer.data


class AsyncSerializerMixin:
    """
    Add `ais_valid()`, `asave()` and `adata()` to a DRF serializer.

    Usage:

        class BookSerializer(AsyncSerializerMixin, serializers.ModelSerializer):
            cover = serializers.URLField(source="acover_url")  # an async model property

            class Meta:
                model = Book
                fields = ["id", "title", "cover"]

        serializer = BookSerializer(data=request.data)
        await serializer.ais_valid(raise_exception=True)
        await serializer.asave()
        return Response(await serializer.adata())

    Each call is one thread hop; the serializer's sync API is untouched, so DRF's own call
    sites (and sync views) keep working. A typed field whose attribute is awaitable is
    converted after the attribute is awaited, on the loop.
    """

    if TYPE_CHECKING:
        # Provided by the DRF serializer this class is mixed into.
        @property
        def _readable_fields(self) -> Iterable[Any]: ...

    async def ais_valid(self, *, raise_exception: bool = False) -> bool:
        return await ais_valid(self, raise_exception=raise_exception)

    async def asave(self, **kwargs: object) -> Any:
        return await asave(self, **kwargs)

    async def adata(self) -> Any:
        return await adata(self)

    def to_representation(self, instance: Any) -> Any:
        # DRF's loop over readable fields, except that an awaitable attribute is deferred
        # (DRF would hand the coroutine object to the field and render its repr).
        ret: dict[str, object] = {}
        for field in self._readable_fields:
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            if inspect.isawaitable(attribute):
                ret[field.field_name] = _Pending(attribute, field)
                continue
            check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[field.field_name] = None if check is None else field.to_representation(attribute)
        return ret
