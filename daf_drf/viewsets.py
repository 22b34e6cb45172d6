"""
ViewSets with async actions, routed by DRF's own routers.

    from rest_framework.routers import DefaultRouter
    from daf_drf import viewsets
    from daf_drf.decorators import action

    class BookViewSet(viewsets.ModelViewSet):
        queryset = Book.objects.select_related("author")
        serializer_class = BookSerializer

        def get_permissions(self):
            if self.action in ("list", "retrieve"):
                return [AllowAny()]
            return [IsAdminUser()]

        @action(detail=True, methods=["post"])
        async def publish(self, request, pk=None):
            book = await self.aget_object()
            ...

    router = DefaultRouter()
    router.register("books", BookViewSet)

Actions keep DRF's names (`list`, `create`, `retrieve`, `update`, `partial_update`,
`destroy`), so DRF's `SimpleRouter`/`DefaultRouter`, `self.action`, `reverse_action`,
per-action configuration and drf-spectacular work as with DRF's viewsets; no daf_drf router
exists or is needed.

Guarantees: `as_view()` returns a coroutine function, so Django awaits the view under ASGI
instead of running it in a thread (DRF's `ViewSetMixin.as_view` returns a plain function);
called from sync code (a DRF-style test) it returns the response, as DRF's does.
Every action it maps, and every action a class defines, must be `async def`: anything else
is a `TypeError` naming the class and the method, at class definition or routing time.

Like the generic views, the classes carry no docstrings so that drf-spectacular keeps
describing your viewsets as it does with DRF's.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, cast

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponseBase
from django.utils.decorators import classonlymethod
from rest_framework import viewsets as drf_viewsets
from rest_framework.decorators import MethodMapper

from daf_drf import mixins
from daf_drf.generics import GenericAPIView
from daf_drf.transaction import mark_non_atomic
from daf_drf.views import APIView, dual_mode_view

__all__ = [
    "GenericViewSet",
    "ModelViewSet",
    "ReadOnlyModelViewSet",
    "ViewSet",
    "ViewSetMixin",
    "check_async_actions",
]

ACTION_NAMES = ("list", "create", "retrieve", "update", "partial_update", "destroy")


def _sync_action_error(cls: type, name: str) -> TypeError:
    return TypeError(
        f"{cls.__module__}.{cls.__qualname__}.{name}() must be `async def`: daf_drf viewsets "
        "dispatch on the event loop. Make it a coroutine function, or subclass "
        "rest_framework.viewsets for a sync viewset."
    )


def _is_extra_action(attr: object) -> bool:
    return isinstance(getattr(attr, "mapping", None), MethodMapper)


def check_async_actions(cls: type) -> None:
    """Raise `TypeError` if a standard or extra action of the viewset `cls` is sync."""
    names = [name for name in ACTION_NAMES if getattr(cls, name, None) is not None]
    for name, member in inspect.getmembers(cls, _is_extra_action):
        names.append(name)
        names.extend(member.mapping.values())
    for name in names:
        if not iscoroutinefunction(getattr(cls, name, None)):
            raise _sync_action_error(cls, name)


class ViewSetMixin(drf_viewsets.ViewSetMixin):
    # DRF's ViewSetMixin whose `as_view()` returns a coroutine function.

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        check_async_actions(cls)

    @classonlymethod
    def as_view(cls, actions: Any = None, **initkwargs: object) -> Any:
        """
        DRF's `as_view(actions)`, returning an `async def` view function that Django awaits.
        A mapped action that is not `async def` is a `TypeError`.
        """
        # DRF's view function returns what `dispatch()` returns: here, a coroutine.
        view = cast(
            "Callable[..., Awaitable[HttpResponseBase]]", super().as_view(actions, **initkwargs)
        )
        for action_name in (actions or {}).values():
            if not iscoroutinefunction(getattr(cls, action_name, None)):
                raise _sync_action_error(cls, action_name)

        # DRF's view function builds the instance, binds the actions and returns
        # `self.dispatch(...)`, which for daf_drf is a coroutine: await it here.
        async def async_view(
            request: HttpRequest, *args: object, **kwargs: object
        ) -> HttpResponseBase:
            return await view(request, *args, **kwargs)

        functools.update_wrapper(async_view, view)  # cls, initkwargs, actions, csrf_exempt
        return mark_non_atomic(dual_mode_view(async_view))


class ViewSet(ViewSetMixin, drf_viewsets.ViewSet, APIView):  # type: ignore[misc]
    pass


class GenericViewSet(ViewSetMixin, drf_viewsets.GenericViewSet, GenericAPIView):  # type: ignore[type-arg,misc]
    pass


class ReadOnlyModelViewSet(  # type: ignore[misc]
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    drf_viewsets.ReadOnlyModelViewSet,  # type: ignore[type-arg]
    GenericViewSet,
):
    pass


class ModelViewSet(  # type: ignore[misc]
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    drf_viewsets.ModelViewSet,  # type: ignore[type-arg]
    GenericViewSet,
):
    pass
