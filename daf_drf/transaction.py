"""
Database transactions for async handlers.

Django's `transaction.atomic` binds a transaction to the thread's connection, and the event
loop thread has none. An atomic block in an async handler is therefore a sync function that
runs, in one thread hop, inside `transaction.atomic`:

    from daf_drf.transaction import atomic

    @atomic
    def transfer(source, target, amount):
        source.balance -= amount
        source.save()
        target.balance += amount
        target.save()

    class TransferView(APIView):
        async def post(self, request):
            await transfer(source, target, 10)   # one hop, one transaction
            return Response(status=204)

`@atomic` works on methods too (`@atomic def perform_create(self, serializer)` makes the
save and whatever else the method writes one transaction).

`ATOMIC_REQUESTS`: Django refuses to wrap an async view in a transaction
(`RuntimeError: You cannot use ATOMIC_REQUESTS with async views.`), so daf_drf marks its views
non-atomic for every database, like `transaction.non_atomic_requests`, and the system check
`daf_drf.W040` says so when a database sets `ATOMIC_REQUESTS`. The write pipelines of
daf_drf's generic views (validate, save, serialize) still run inside `transaction.atomic` for
each such database, in their single hop; work done by your own async hooks is not covered:
use `@atomic` for it.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, ParamSpec, TypeVar, overload

from asgiref.sync import sync_to_async
from django.db import DEFAULT_DB_ALIAS, connections, transaction

# Re-exported: the check lives with daf_drf's other checks, registered by the app config.
from daf_drf.checks.transaction import check_atomic_requests

__all__ = ["atomic", "check_atomic_requests", "mark_non_atomic", "request_atomic"]

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")


@overload
def atomic(
    using: Callable[P, R], savepoint: bool = True, durable: bool = False
) -> Callable[P, Awaitable[R]]: ...


@overload
def atomic(
    using: str | None = None, savepoint: bool = True, durable: bool = False
) -> Callable[[Callable[P, R]], Callable[P, Awaitable[R]]]: ...


def atomic(
    using: str | Callable[P, R] | None = None, savepoint: bool = True, durable: bool = False
) -> Callable[P, Awaitable[R]] | Callable[[Callable[P, R]], Callable[P, Awaitable[R]]]:
    """
    Turn a sync function into an `async def` that runs it in one thread hop inside
    `transaction.atomic(using, savepoint, durable)`.

    Use it bare (`@atomic`) or with Django's arguments (`@atomic(using="replica")`). An
    `async def` is refused with `TypeError`: its awaits may run on other threads, outside the
    transaction.
    """
    if callable(using):
        return _wrap(using, DEFAULT_DB_ALIAS, savepoint, durable)

    def decorator(func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
        return _wrap(func, using, savepoint, durable)

    return decorator


def _wrap(
    func: Callable[P, R], using: str | None, savepoint: bool, durable: bool
) -> Callable[P, Awaitable[R]]:
    if inspect.iscoroutinefunction(func):
        raise TypeError(
            f"daf_drf.transaction.atomic cannot wrap {func.__module__}.{func.__qualname__}() "
            "because it is `async def`: its awaits may run on other threads, outside the "
            "transaction. Move the database work into a sync function and decorate that."
        )
    hop = sync_to_async(transaction.atomic(using=using, savepoint=savepoint, durable=durable)(func))

    @functools.wraps(func)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return await hop(*args, **kwargs)

    return wrapper


def _atomic_request_aliases() -> list[str]:
    return [alias for alias, db in connections.settings.items() if db.get("ATOMIC_REQUESTS")]


@contextlib.contextmanager
def request_atomic() -> Iterator[None]:
    """
    Inside a worker thread, open `transaction.atomic` for every database that sets
    `ATOMIC_REQUESTS`, so that a daf_drf pipeline run there keeps the project's guarantee.
    A no-op when no database sets it.
    """
    aliases = _atomic_request_aliases()
    if not aliases:
        yield
        return
    with contextlib.ExitStack() as stack:
        for alias in aliases:
            stack.enter_context(transaction.atomic(using=alias))
        yield


def mark_non_atomic(view: F) -> F:
    """
    Exempt the async view function `view` from `ATOMIC_REQUESTS` on every database, as
    `transaction.non_atomic_requests` does for one, so Django serves it instead of raising.
    """
    for alias in connections.settings:
        transaction.non_atomic_requests(using=alias)(view)
    return view
