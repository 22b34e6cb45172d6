"""
Permissions, differentially: DRF is the oracle.

Each case sends the same request to a DRF view whose permissions are plain sync classes and to
its daf_drf twin whose permissions are the *same* checks written in another way (sync,
`async def`, `async def` under an ordinary decorator, a sync method returning a coroutine,
adrf's `AsyncBasePermission`). The responses must be identical (status, body with the error's
`code`, headers), and so must the checks that ran, in order: that proves DRF's declared order
and short-circuits with async operands, not only the final answer.

Truth tables: every operator (`&`, `|`, `~`) over every allow/deny combination and every pair
of kinds, for `has_permission`; `&`, `|`, `~` for `has_object_permission` including DRF's
#6402 rule for `|`; lists of permissions (first denial's `message` and `code`).
"""

from __future__ import annotations

from tests.adrf_support import require_adrf

require_adrf()

import asyncio
import functools
import itertools
from typing import Any

from adrf.permissions import AsyncBasePermission
from django.test import TestCase, override_settings
from rest_framework import views as drf_views
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from compat.differential import Differential
from daf_drf.views import APIView

KINDS = ("sync", "async", "decorated", "awaitable", "adrf")

# One list of check names per side played; `reset` starts a new one before each side.
LOG: list[list[str]] = [[]]


def record(name: str) -> None:
    LOG[-1].append(name)


def coded_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the error's code in the body so that it is compared too."""
    response = drf_views.exception_handler(exc, context)
    if response is not None and hasattr(exc, "get_codes"):
        response.data["code"] = exc.get_codes()
    return response


def passthrough(func: Any) -> Any:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


async def _later(value: bool) -> bool:
    await asyncio.sleep(0)
    return value


def _method(kind: str, label: str, allow: bool) -> Any:
    if kind == "sync":

        def check(self: Any, request: Any, view: Any, *obj: Any) -> bool:
            record(label)
            return allow

        return check
    if kind == "awaitable":

        def check_later(self: Any, request: Any, view: Any, *obj: Any) -> Any:
            record(label)
            return _later(allow)

        return check_later

    async def acheck(self: Any, request: Any, view: Any, *obj: Any) -> bool:
        record(label)
        await asyncio.sleep(0)
        return allow

    return passthrough(acheck) if kind == "decorated" else acheck


def perm(name: str, allow: bool, kind: str = "sync", obj_allow: bool = True) -> Any:
    """A permission class `name` granting `allow` (and `obj_allow` on objects), as `kind`."""
    base = AsyncBasePermission if kind == "adrf" else BasePermission
    method_kind = "async" if kind == "adrf" else kind
    attrs = {
        "message": f"{name} says no",
        "code": f"{name.lower()}_denied",
        "has_permission": _method(method_kind, name, allow),
        "has_object_permission": _method(method_kind, f"{name}.obj", obj_allow),
    }
    return type(f"{name}_{kind}", (base,), attrs)


class Thing:
    """The object of object-permission checks (requested with `?obj=1`)."""

    pk = 1


class DrfProbe(drf_views.APIView):
    authentication_classes: list[Any] = []

    def get(self, request: Any) -> Response:
        if "obj" in request.query_params:
            self.check_object_permissions(request, Thing())
        return Response({"ok": True})


class DafProbe(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        if "obj" in request.query_params:
            await self.acheck_object_permissions(request, Thing())
        return Response({"ok": True})


def _new_side() -> None:
    LOG.append([])


@override_settings(REST_FRAMEWORK={"EXCEPTION_HANDLER": f"{__name__}.coded_exception_handler"})
class PermissionDifferentialTestCase(TestCase):
    objects = False

    async def assert_same(self, drf_permissions: list[Any], daf_permissions: list[Any]) -> int:
        """Compare the two views' answers and checks; return DRF's status."""
        LOG.clear()
        diff = Differential(
            DrfProbe.as_view(permission_classes=drf_permissions),
            DafProbe.as_view(permission_classes=daf_permissions),
            reset=_new_side,
        )
        outcome = await diff.request("GET", "?obj=1" if self.objects else "")
        drf_checks, daf_checks = LOG
        assert drf_checks == daf_checks, (drf_checks, daf_checks)
        assert outcome.status is not None
        return outcome.status


class TestHasPermissionTruthTables(PermissionDifferentialTestCase):
    async def check_binary(self, op: Any) -> None:
        statuses = set()
        for a, b in itertools.product((True, False), repeat=2):
            for kind_a, kind_b in itertools.product(KINDS, repeat=2):
                with self.subTest(a=a, b=b, kind_a=kind_a, kind_b=kind_b):
                    status = await self.assert_same(
                        [op(perm("A", a), perm("B", b))],
                        [op(perm("A", a, kind_a), perm("B", b, kind_b))],
                    )
                    statuses.add(status)
        assert statuses == {200, 403}  # the table exercised both answers

    async def test_and(self) -> None:
        await self.check_binary(lambda a, b: a & b)

    async def test_or(self) -> None:
        await self.check_binary(lambda a, b: a | b)

    async def test_not(self) -> None:
        for allow, kind in itertools.product((True, False), KINDS):
            with self.subTest(allow=allow, kind=kind):
                status = await self.assert_same([~perm("A", allow)], [~perm("A", allow, kind)])
                assert status == (403 if allow else 200)

    async def test_nested_composites(self) -> None:
        shapes = [
            lambda a, b, c: (a | b) & ~c,
            lambda a, b, c: a & (b | c),
            lambda a, b, c: ~(a & b) | c,
        ]
        for shape, allows in itertools.product(shapes, itertools.product((True, False), repeat=3)):
            for kinds in (("sync", "async", "decorated"), ("adrf", "awaitable", "async")):
                with self.subTest(allows=allows, kinds=kinds):
                    await self.assert_same(
                        [shape(*(perm(n, v) for n, v in zip("ABC", allows, strict=True)))],
                        [
                            shape(
                                *(
                                    perm(n, v, k)
                                    for n, v, k in zip("ABC", allows, kinds, strict=True)
                                )
                            )
                        ],
                    )


class TestPermissionLists(PermissionDifferentialTestCase):
    async def test_declared_order_first_denial_message_and_code(self) -> None:
        for allows in itertools.product((True, False), repeat=3):
            for kinds in itertools.product(("sync", "async", "decorated"), repeat=3):
                with self.subTest(allows=allows, kinds=kinds):
                    await self.assert_same(
                        [perm(n, v) for n, v in zip("ABC", allows, strict=True)],
                        [perm(n, v, k) for n, v, k in zip("ABC", allows, kinds, strict=True)],
                    )

    async def test_composite_denial_has_the_default_message(self) -> None:
        status = await self.assert_same(
            [perm("A", True) & perm("B", False)], [perm("A", True, "async") & perm("B", False)]
        )
        assert status == 403


class TestObjectPermissionTruthTables(PermissionDifferentialTestCase):
    objects = True

    async def check_binary(self, op: Any) -> None:
        statuses = set()
        grants = list(itertools.product((True, False), repeat=2))  # (view, object)
        for (pa, oa), (pb, ob) in itertools.product(grants, repeat=2):
            for kind_a, kind_b in itertools.product(("sync", "async", "decorated"), repeat=2):
                with self.subTest(a=(pa, oa), b=(pb, ob), kind_a=kind_a, kind_b=kind_b):
                    status = await self.assert_same(
                        [op(perm("A", pa, obj_allow=oa), perm("B", pb, obj_allow=ob))],
                        [
                            op(
                                perm("A", pa, kind_a, obj_allow=oa),
                                perm("B", pb, kind_b, obj_allow=ob),
                            )
                        ],
                    )
                    statuses.add(status)
        assert statuses == {200, 403}

    async def test_and(self) -> None:
        await self.check_binary(lambda a, b: a & b)

    async def test_or_follows_drf_6402(self) -> None:
        await self.check_binary(lambda a, b: a | b)

    async def test_not(self) -> None:
        for (allow, obj_allow), kind in itertools.product(
            itertools.product((True, False), repeat=2), ("sync", "async", "adrf")
        ):
            with self.subTest(allow=allow, obj_allow=obj_allow, kind=kind):
                await self.assert_same(
                    [~perm("A", allow, obj_allow=obj_allow)],
                    [~perm("A", allow, kind, obj_allow=obj_allow)],
                )

    async def test_list_object_denial_message_and_code(self) -> None:
        for obj_allows in itertools.product((True, False), repeat=2):
            with self.subTest(obj_allows=obj_allows):
                a, b = obj_allows
                await self.assert_same(
                    [perm("A", True, obj_allow=a), perm("B", True, obj_allow=b)],
                    [perm("A", True, "async", obj_allow=a), perm("B", True, "adrf", obj_allow=b)],
                )
