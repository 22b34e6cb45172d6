"""`daf_drf.hooks`: how a sync-or-async hook is called, and when it costs a thread hop."""

from __future__ import annotations

import functools
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import override_settings
from rest_framework import permissions
from rest_framework import views as drf_views

from daf_drf import generics
from daf_drf.hooks import (
    HookNotAwaitable,
    call_hook,
    has_inline_safe_mark,
    inline_safe,
    is_inline_safe,
    overrides,
    register_inline_safe,
    resolve_sync,
)
from tests.support.hooks import IOPermission, configured_hook
from tests.support.hops import ThreadHops


def current_thread_name(*args: Any) -> str:
    return threading.current_thread().name


async def async_answer(*args: Any) -> str:
    return "async"


def hides_coroutine(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@inline_safe
def pure_function(*args: Any) -> str:
    return threading.current_thread().name


@inline_safe
class PureHeaderPermission(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return True


class ImpureIsAuthenticated(permissions.IsAuthenticated):
    inline_safe = False


# --- call_hook -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_coroutine_function_is_awaited_on_the_loop_without_a_hop() -> None:
    with ThreadHops() as hops:
        assert await call_hook(None, async_answer) == "async"
    assert hops.total == 0


@pytest.mark.asyncio
async def test_a_decorated_async_hook_is_awaited_not_taken_as_truthy() -> None:
    async def deny() -> bool:
        return False

    with ThreadHops() as hops:
        assert await call_hook(None, hides_coroutine(deny)) is False
    assert hops.total == 0


@pytest.mark.asyncio
async def test_an_undeclared_sync_hook_runs_in_exactly_one_hop() -> None:
    loop_thread = threading.current_thread().name
    with ThreadHops() as hops:
        name = await call_hook(None, current_thread_name)
    assert name != loop_thread
    assert hops.total == 1


@pytest.mark.asyncio
async def test_a_sync_hook_returning_an_awaitable_from_its_thread_is_awaited() -> None:
    async def later() -> str:
        return "later"

    def returns_coroutine() -> Any:
        return later()

    assert await call_hook(None, returns_coroutine) == "later"


@pytest.mark.asyncio
async def test_drfs_pure_permissions_and_default_handler_run_inline() -> None:
    for func in (
        permissions.AllowAny().has_permission,
        permissions.IsAuthenticated().has_permission,
        permissions.IsAdminUser().has_permission,
        permissions.IsAuthenticatedOrReadOnly().has_permission,
        drf_views.exception_handler,
    ):
        assert is_inline_safe(getattr(func, "__self__", None), func), func


@pytest.mark.asyncio
async def test_inline_safe_function_runs_inline() -> None:
    loop_thread = threading.current_thread().name
    with ThreadHops() as hops:
        assert await call_hook(None, pure_function) == loop_thread
    assert hops.total == 0


def test_inline_safe_class_marks_its_hooks_pure() -> None:
    permission = PureHeaderPermission()
    assert is_inline_safe(permission, permission.has_permission)


def test_a_sync_permission_of_a_project_may_do_io() -> None:
    permission = IOPermission()
    assert not is_inline_safe(permission, permission.has_permission)


def test_inline_safe_false_on_a_subclass_of_a_pure_class_opts_out() -> None:
    permission = ImpureIsAuthenticated()
    assert not is_inline_safe(permission, permission.has_permission)


@override_settings(DAF_DRF={"INLINE_HOOKS": ["tests.support.hooks.configured_hook"]})
def test_inline_hooks_setting_lists_pure_functions() -> None:
    assert is_inline_safe(None, configured_hook)


@override_settings(DAF_DRF={"INLINE_HOOKS": ["tests.support.hooks.IOPermission"]})
def test_inline_hooks_setting_lists_pure_classes() -> None:
    permission = IOPermission()
    assert is_inline_safe(permission, permission.has_permission)


# --- the registry and the explicit mark ----------------------------------------------------


def test_a_registered_function_is_pure_wherever_it_is_called() -> None:
    def registered_hook(*args: Any) -> str:
        return threading.current_thread().name

    assert not is_inline_safe(None, registered_hook)
    register_inline_safe(registered_hook)
    assert is_inline_safe(None, registered_hook)


def test_a_registered_class_makes_its_exact_instances_pure_not_its_subclasses() -> None:
    class RegisteredPermission(permissions.BasePermission):
        def has_permission(self, request: Any, view: Any) -> bool:
            return True

    class AddsIO(RegisteredPermission):
        pass

    register_inline_safe(RegisteredPermission)
    pure, sub = RegisteredPermission(), AddsIO()
    assert is_inline_safe(pure, pure.has_permission)
    assert not is_inline_safe(sub, sub.has_permission)


def test_an_explicit_false_wins_over_the_registry() -> None:
    class OptedOut(permissions.AllowAny):
        inline_safe = False

    permission = OptedOut()
    assert not is_inline_safe(permission, permission.has_permission)


def test_the_mark_is_read_from_the_object_itself_only() -> None:
    permission = PureHeaderPermission()  # marked on the class, not on the method
    assert is_inline_safe(permission, permission.has_permission)
    assert not has_inline_safe_mark(permission.has_permission)
    assert has_inline_safe_mark(pure_function)
    assert has_inline_safe_mark(functools.partial(pure_function, 1))
    assert not has_inline_safe_mark(configured_hook)


def test_overrides_sees_subclass_methods_and_instance_assignments() -> None:
    class Base:
        def hook(self) -> None:
            pass

    class Same(Base):
        pass

    class Replaced(Base):
        def hook(self) -> None:
            pass

    assert not overrides(Same(), "hook", Base)
    assert overrides(Replaced(), "hook", Base)
    assigned = Same()
    assigned.hook = lambda: None  # type: ignore[method-assign]
    assert overrides(assigned, "hook", Base)


# --- a generic view's own hooks (`GenericAPIView.ahook`) ----------------------------------


class ThreadNamingList(generics.ListAPIView):
    def get_queryset(self) -> Any:
        return threading.current_thread().name


@inline_safe
class PureThreadNamingList(ThreadNamingList):
    pass


class ListedThreadNamingList(ThreadNamingList):
    pass


async def _queryset_thread(view: generics.GenericAPIView) -> tuple[str, int]:
    with ThreadHops() as hops:
        name = await view.aget_queryset()
    return name, hops.total


@pytest.mark.asyncio
async def test_a_generic_views_sync_hook_may_do_io_so_it_runs_in_one_hop() -> None:
    name, hops = await _queryset_thread(ThreadNamingList())
    assert name != threading.current_thread().name
    assert hops == 1


@pytest.mark.asyncio
async def test_a_generic_view_marked_inline_safe_runs_its_sync_hooks_on_the_loop() -> None:
    name, hops = await _queryset_thread(PureThreadNamingList())
    assert name == threading.current_thread().name
    assert hops == 0


@pytest.mark.asyncio
@override_settings(DAF_DRF={"INLINE_HOOKS": [f"{__name__}.ListedThreadNamingList"]})
async def test_a_generic_view_listed_in_inline_hooks_runs_its_sync_hooks_on_the_loop() -> None:
    name, hops = await _queryset_thread(ListedThreadNamingList())
    assert name == threading.current_thread().name
    assert hops == 0


# --- resolve_sync --------------------------------------------------------------------------


def test_resolve_sync_passes_plain_values_through() -> None:
    assert resolve_sync(True, what="x") is True
    assert resolve_sync(None, what="x") is None


def test_resolve_sync_awaits_an_awaitable_where_no_loop_runs() -> None:
    assert resolve_sync(async_answer(), what="x") == "async"


@pytest.mark.asyncio
async def test_resolve_sync_awaits_an_awaitable_from_a_worker_thread() -> None:
    def sync_call_site() -> Any:
        return resolve_sync(async_answer(), what="x")

    assert await sync_to_async(sync_call_site)() == "async"


@pytest.mark.asyncio
async def test_resolve_sync_on_the_loop_closes_the_coroutine_and_raises() -> None:
    coroutine = async_answer()
    with pytest.raises(HookNotAwaitable, match=r"Perm\.has_permission"):
        resolve_sync(coroutine, what="Perm.has_permission")
    assert coroutine.cr_frame is None  # closed: no "never awaited" warning
