"""
Django's standard middleware on the event loop, hook by hook, when that is what Django does.

Under ASGI, Django runs every hook of a `MiddlewareMixin` middleware through
`sync_to_async(thread_sensitive=True)`: `startproject`'s seven middleware cost 13 thread
hops a request. Most of those hooks only read settings, headers and cookies and set
attributes. For those, the thread they run on changes nothing: they touch no database
connection and no thread-local state, and `sync_to_async` copies context variables back, so
running them inline on the loop has the same effect.

`install(handler)` walks the handler's middleware chain after Django built it and, for each
instance whose *exact* class is one of Django's own listed in `RULES`
(`daf_drf.asgi._middleware_rules`, one rule per hook), swaps in a call that runs each hook
inline when the rule for that hook holds for this request, and through Django's own hop
otherwise. Every rule is read from the hook's source, and this module keeps that source's
fingerprints (`KNOWN`, hashed by `daf_drf.asgi._guard.fingerprint`): if Django changes any of
it, that class is not swapped, and if the shared code changed, nothing is (`verified()`,
`daf_drf.W053`). A subclass, a third-party middleware, or a hook whose rule does not hold
keeps Django's behaviour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, cast

from asgiref.sync import SyncToAsync, sync_to_async
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

from daf_drf.asgi._guard import fingerprint
from daf_drf.asgi._middleware_rules import RULES, Rule, never, path_of

__all__ = ["KNOWN", "RULES", "MiddlewareChain", "install", "relied_on", "verified"]

AsyncHandler = Callable[[HttpRequest], Awaitable[HttpResponseBase]]


class _AsyncMiddleware(Protocol):
    """A `MiddlewareMixin` instance in async mode: `get_response` is a coroutine function."""

    get_response: AsyncHandler
    async_mode: bool
    __acall__: AsyncHandler


class MiddlewareChain(Protocol):
    """The handler's middleware as Django's `BaseHandler.load_middleware` leaves them."""

    _middleware_chain: Callable[[HttpRequest], object] | None
    _view_middleware: list[Callable[..., object]]


def _shared() -> dict[str, Callable[..., object]]:
    from django.core.handlers.base import BaseHandler
    from django.core.handlers.exception import convert_exception_to_response

    return {
        "django.utils.deprecation.MiddlewareMixin.__init__": MiddlewareMixin.__init__,
        "django.utils.deprecation.MiddlewareMixin.__call__": MiddlewareMixin.__call__,
        "django.utils.deprecation.MiddlewareMixin.__acall__": MiddlewareMixin.__acall__,
        "django.core.handlers.base.BaseHandler.load_middleware": BaseHandler.load_middleware,
        # Private, and not in django-stubs: read from the class's namespace.
        "django.core.handlers.base.BaseHandler._get_response_async": (
            vars(BaseHandler)["_get_response_async"]
        ),
        "django.core.handlers.exception.convert_exception_to_response": (
            convert_exception_to_response
        ),
    }


def _helpers(path: str) -> dict[str, Callable[..., object]]:
    """Functions besides the hooks that a class's rules were read from (imported lazily)."""
    found: dict[str, Callable[..., object]] = {}
    if path.endswith("SessionMiddleware"):
        from django.contrib.sessions.backends import cache, cached_db, db, signed_cookies

        # As each engine's store resolves them: an override added to one store shows here.
        for module in (cache, cached_db, db, signed_cookies):
            for name in ("__init__", "is_empty"):
                found[f"{module.__name__}.SessionStore.{name}"] = getattr(module.SessionStore, name)
    elif path.endswith("CsrfViewMiddleware"):
        from django.middleware.csrf import CsrfViewMiddleware as Csrf

        for name in ("_get_secret", "_set_csrf_cookie", "_accept"):
            found[f"django.middleware.csrf.CsrfViewMiddleware.{name}"] = getattr(Csrf, name)
    elif path.endswith("MessageMiddleware"):
        from django.contrib.messages.storage import base as storage_base
        from django.contrib.messages.storage import cookie, fallback, session

        storage = storage_base.BaseStorage
        found["django.contrib.messages.storage.base.BaseStorage.__init__"] = storage.__init__
        found["django.contrib.messages.storage.base.BaseStorage.update"] = storage.update
        for cls in (
            cookie.CookieStorage,
            fallback.FallbackStorage,
            session.SessionStorage,
        ):
            found[f"{path_of(cls)}.__init__"] = vars(cls)["__init__"]
    return found


def relied_on(cls: type | None = None) -> dict[str, Callable[..., object]]:
    """The Django functions the rules for `cls` (else the shared code) were read from."""
    if cls is None:
        return _shared()
    path = path_of(cls)
    found = {f"{path}.{name}": getattr(cls, name) for name in RULES[path]}
    found.update(_helpers(path))
    return found


# Fingerprints (`daf_drf.asgi._guard.fingerprint`) of the code the rules were read from, each with
# the set of versions accepted (read from Django 5.2.19, 6.0.10 and 6.1.3: 6.x reflowed
# docstrings and CommonMiddleware assigns its redirect before returning it, the same
# behaviour). A class whose code is not in this
# table keeps Django's hops; if the shared code changed, no class is touched (daf_drf.W053).
KNOWN: dict[str, frozenset[str] | set[str]] = {
    "django.contrib.auth.middleware.AuthenticationMiddleware.process_request": {"ea4fbb59cd455176"},
    "django.contrib.messages.middleware.MessageMiddleware.process_request": {"44df659cb27519fa"},
    "django.contrib.messages.middleware.MessageMiddleware.process_response": {"7061060b1a12119b"},
    "django.contrib.messages.storage.base.BaseStorage.__init__": {"5e6b781d552646c1"},
    "django.contrib.messages.storage.base.BaseStorage.update": {"5a91480a723b65e5"},
    "django.contrib.messages.storage.cookie.CookieStorage.__init__": {"7b7eee7fa098c1c4"},
    "django.contrib.messages.storage.fallback.FallbackStorage.__init__": {"ba3bc7ab722aceaa"},
    "django.contrib.messages.storage.session.SessionStorage.__init__": {"516de6e61079e4da"},
    "django.contrib.sessions.backends.cache.SessionStore.__init__": {"321e099c04e2c841"},
    "django.contrib.sessions.backends.cached_db.SessionStore.__init__": {"321e099c04e2c841"},
    "django.contrib.sessions.backends.db.SessionStore.__init__": {"512ab1adaa3e1b5c"},
    "django.contrib.sessions.backends.cache.SessionStore.is_empty": {"98b718579fe777b1"},
    "django.contrib.sessions.backends.cached_db.SessionStore.is_empty": {"98b718579fe777b1"},
    "django.contrib.sessions.backends.db.SessionStore.is_empty": {"98b718579fe777b1"},
    "django.contrib.sessions.backends.signed_cookies.SessionStore.__init__": {"cd44361366f0248c"},
    "django.contrib.sessions.backends.signed_cookies.SessionStore.is_empty": {"98b718579fe777b1"},
    "django.contrib.sessions.middleware.SessionMiddleware.process_request": {"84c64dad7eaaa391"},
    "django.contrib.sessions.middleware.SessionMiddleware.process_response": {"2f6d14dc751a90cb"},
    "django.core.handlers.base.BaseHandler._get_response_async": {"f40e71427e89e028"},
    "django.core.handlers.base.BaseHandler.load_middleware": {
        "c1de0426bc4bf79f",
        "5742686b711f0303",
    },
    "django.core.handlers.exception.convert_exception_to_response": {"5a7fdc257a83ee4c"},
    "django.middleware.clickjacking.XFrameOptionsMiddleware.process_response": {"2e83708026eb8503"},
    "django.middleware.common.CommonMiddleware.process_request": {
        "21c605963395ab2f",
        "0ef84e058147b189",
    },
    "django.middleware.common.CommonMiddleware.process_response": {
        "8237b31058eca624",
        "8f3f79f35b10a88c",
    },
    "django.middleware.csrf.CsrfViewMiddleware._accept": {"36a17462fe676b9c"},
    "django.middleware.csrf.CsrfViewMiddleware._get_secret": {"e83490904b59a3bd"},
    "django.middleware.csrf.CsrfViewMiddleware._set_csrf_cookie": {"fe9b05d22c083bc5"},
    "django.middleware.csrf.CsrfViewMiddleware.process_request": {"91e9e399f5943799"},
    "django.middleware.csrf.CsrfViewMiddleware.process_response": {"bb7a35bc1193c4b5"},
    "django.middleware.csrf.CsrfViewMiddleware.process_view": {"36c70769f0ee6188"},
    "django.middleware.security.SecurityMiddleware.process_request": {"7c63c4b68adb2db4"},
    "django.middleware.security.SecurityMiddleware.process_response": {"1e0df268c5e2e2b7"},
    "django.utils.deprecation.MiddlewareMixin.__acall__": {"b379ca8e25b304dd"},
    "django.utils.deprecation.MiddlewareMixin.__call__": {"cde48f1b6077670c"},
    "django.utils.deprecation.MiddlewareMixin.__init__": {"bc0fd92a978715dd"},
}


def current(cls: type | None = None) -> dict[str, str]:
    """Fingerprints of the installed Django's relied-on functions (for `cls`, or shared)."""
    return {name: fingerprint(func) for name, func in relied_on(cls).items()}


_verdicts: dict[type | None, bool] = {}


def verified(cls: type | None = None) -> bool:
    """Whether the installed code the rules for `cls` (or the shared code) rely on is known."""
    verdict = _verdicts.get(cls)
    if verdict is None:
        found = current(cls)
        verdict = _verdicts[cls] = all(
            KNOWN.get(name, ()) and digest in KNOWN[name] for name, digest in found.items()
        )
    return verdict


def _inline_acall(mw: _AsyncMiddleware, hooks: dict[str, Rule]) -> AsyncHandler:
    """`MiddlewareMixin.__acall__`, statement for statement, with each hook inline when safe."""
    process_request: Callable[[HttpRequest], HttpResponseBase | None] | None = getattr(
        mw, "process_request", None
    )
    process_response: Callable[[HttpRequest, HttpResponseBase], HttpResponseBase] | None = getattr(
        mw, "process_response", None
    )
    request_rule: Rule = hooks.get("process_request", never)
    response_rule: Rule = hooks.get("process_response", never)

    async def acall(request: HttpRequest) -> HttpResponseBase:
        response = None
        if process_request is not None:
            if request_rule(mw, request):
                response = process_request(request)
            else:
                hop = sync_to_async(process_request, thread_sensitive=True)
                response = await hop(request)
        response = response or await mw.get_response(request)
        if process_response is not None:
            if response_rule(mw, request, response):
                response = process_response(request, response)
            else:
                hop_response = sync_to_async(process_response, thread_sensitive=True)
                response = await hop_response(request, response)
        return response

    return acall


# An entry of `BaseHandler._view_middleware` in async mode: `process_view`, awaitable.
ViewHook = Callable[
    [HttpRequest, Callable[..., object], tuple[object, ...], dict[str, object]],
    Awaitable[HttpResponseBase | None],
]


def _inline_process_view(
    mw: MiddlewareMixin,
    process_view: Callable[..., HttpResponseBase | None],
    adapted: ViewHook,
    rule: Rule,
) -> ViewHook:
    """A `process_view` entry of `_view_middleware`: inline when `rule` holds, else Django's."""

    async def view_hook(
        request: HttpRequest,
        callback: Callable[..., object],
        args: tuple[object, ...],
        kwargs: dict[str, object],
    ) -> HttpResponseBase | None:
        if rule(mw, request, callback, args, kwargs):
            return process_view(request, callback, args, kwargs)
        return await adapted(request, callback, args, kwargs)

    return view_hook


def _chain_instances(chain: object) -> list[MiddlewareMixin]:
    """The middleware instances of an async chain, outermost first, as far as it can be read."""
    found = []
    handler = chain
    while True:
        instance = getattr(handler, "__wrapped__", None)  # convert_exception_to_response
        if instance is None or not isinstance(instance, MiddlewareMixin):
            break
        found.append(instance)
        handler = instance.get_response
    return found


def install(handler: MiddlewareChain) -> list[str]:
    """
    Let the known middleware of `handler`'s async chain run their hooks on the loop.

    Returns the class names it applied to. Call after `load_middleware(is_async=True)`.
    """
    if not verified():
        return []
    applied = []
    for mw in _chain_instances(handler._middleware_chain):
        cls = type(mw)
        hooks = RULES.get(path_of(cls))
        # Only Django's exact class, in async mode, with the code the rules were read from.
        if hooks is None or not mw.async_mode or not verified(cls):
            continue
        # In async mode Django made `get_response` a coroutine function (`_async_check`).
        async_mw = cast(_AsyncMiddleware, mw)
        # `MiddlewareMixin.__call__` returns `self.__acall__(request)`, a plain lookup: an
        # instance attribute of that name replaces it for this instance only.
        async_mw.__acall__ = _inline_acall(async_mw, hooks)
        applied.append(cls.__name__)
        view_rule = hooks.get("process_view")
        if view_rule is None:
            continue
        for index, adapted in enumerate(handler._view_middleware):
            if not isinstance(adapted, SyncToAsync):
                continue
            bound = adapted.func
            own = getattr(bound, "__self__", None) is mw
            if own and getattr(bound, "__func__", None) is getattr(cls, "process_view", None):
                # `bound` is `mw.process_view`, the method Django adapted.
                inline = _inline_process_view(mw, bound, adapted, view_rule)
                handler._view_middleware[index] = inline
    return applied
