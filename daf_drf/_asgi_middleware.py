"""
Django's standard middleware on the event loop, hook by hook, when that is what Django does.

Under ASGI, Django runs every hook of a `MiddlewareMixin` middleware through
`sync_to_async(thread_sensitive=True)`: `startproject`'s seven middleware cost 13 thread
hops a request. Most of those hooks only read settings, headers and cookies and set
attributes. For those, the thread they run on changes nothing: they touch no database
connection and no thread-local state, and `sync_to_async` copies context variables back, so
running them inline on the loop has the same effect.

`install(handler)` walks the handler's middleware chain after Django built it and, for each
instance whose *exact* class is one of Django's own listed below, swaps in a call that runs
each hook inline when the rule for that hook holds for this request, and through Django's
own hop otherwise. Every rule is read from the hook's source, and that source is
fingerprinted (`_asgi_compat`): if Django changes any of it, nothing is swapped. A subclass,
a third-party middleware, or a hook whose rule does not hold keeps Django's behaviour.

| middleware | hook | inline when |
|---|---|---|
| SecurityMiddleware | process_request, process_response | always (headers, settings) |
| CommonMiddleware | process_request, process_response | always (headers, URL resolving) |
| XFrameOptionsMiddleware | process_response | always (a header) |
| AuthenticationMiddleware | process_request | always (the user is lazy: no query) |
| SessionMiddleware | process_request | Django's session engine (the store is lazy) |
| SessionMiddleware | process_response | not modified, SESSION_SAVE_EVERY_REQUEST off (no save) |
| CsrfViewMiddleware | process_request, process_response | CSRF_USE_SESSIONS is off (cookie only) |
| CsrfViewMiddleware | process_view | an early accept (done, exempt, safe method, checks off) |
| MessageMiddleware | process_request | Django's message storage (lazy) |
| MessageMiddleware | process_response | nothing was read or added (no store) |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings
from django.utils.deprecation import MiddlewareMixin

__all__ = ["install", "relied_on", "verified"]

Rule = Callable[..., bool]

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Django's session engines whose `SessionStore(key)` only stores the key (loading is lazy)
# and whose `is_empty()` never loads. The file engine is left out (its constructor checks a
# directory on disk).
_SESSION_ENGINES = frozenset(
    {
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
        "django.contrib.sessions.backends.cached_db",
        "django.contrib.sessions.backends.signed_cookies",
    }
)
# Django's message storages: their constructors keep the request and a signer.
_MESSAGE_STORAGES = frozenset(
    {
        "django.contrib.messages.storage.fallback.FallbackStorage",
        "django.contrib.messages.storage.cookie.CookieStorage",
        "django.contrib.messages.storage.session.SessionStorage",
    }
)


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _known_store(cls: type) -> bool:
    return cls.__module__ in _SESSION_ENGINES and cls.__qualname__ == "SessionStore"


def _always(mw: Any, request: Any, *args: Any) -> bool:
    return True


def _never(mw: Any, request: Any, *args: Any) -> bool:
    return False


def _session_store_known(mw: Any, request: Any) -> bool:
    return _known_store(mw.SessionStore)


def _session_not_saved(mw: Any, request: Any, response: Any) -> bool:
    # `process_response` saves (a query) only if `(modified or SESSION_SAVE_EVERY_REQUEST)
    # and not empty`; otherwise it reads flags and sets cookies and headers.
    session = getattr(request, "session", None)
    if session is None:
        return True
    if not _known_store(type(session)):
        return False
    return not session.modified and not settings.SESSION_SAVE_EVERY_REQUEST


def _csrf_cookie_only(mw: Any, request: Any, *args: Any) -> bool:
    # With CSRF_USE_SESSIONS the secret lives in the session (a query to load it).
    return not settings.CSRF_USE_SESSIONS


def _csrf_early_accept(
    mw: Any, request: Any, callback: Any, callback_args: Any, callback_kwargs: Any
) -> bool:
    # The branches of `process_view` that return before reading the body or the session
    # (`_accept` only sets a flag). Anything else (a form POST) runs in Django's hop.
    return bool(
        getattr(request, "csrf_processing_done", False)
        or getattr(callback, "csrf_exempt", False)
        or request.method in _SAFE_METHODS
        or getattr(request, "_dont_enforce_csrf_checks", False)
    )


def _message_storage_known(mw: Any, request: Any) -> bool:
    return settings.MESSAGE_STORAGE in _MESSAGE_STORAGES


def _messages_untouched(mw: Any, request: Any, response: Any) -> bool:
    # `update()` stores (and may load the session) only if messages were read or added.
    storage = getattr(request, "_messages", None)
    if storage is None:
        return True
    if _path(type(storage)) not in _MESSAGE_STORAGES:
        return False
    return not storage.used and not storage.added_new


# Django's class (by dotted path) -> {hook: rule}. A class not listed keeps Django's hops.
RULES: dict[str, dict[str, Rule]] = {
    "django.middleware.security.SecurityMiddleware": {
        "process_request": _always,
        "process_response": _always,
    },
    "django.contrib.sessions.middleware.SessionMiddleware": {
        "process_request": _session_store_known,
        "process_response": _session_not_saved,
    },
    "django.middleware.common.CommonMiddleware": {
        "process_request": _always,
        "process_response": _always,
    },
    "django.middleware.csrf.CsrfViewMiddleware": {
        "process_request": _csrf_cookie_only,
        "process_view": _csrf_early_accept,
        "process_response": _csrf_cookie_only,
    },
    "django.contrib.auth.middleware.AuthenticationMiddleware": {"process_request": _always},
    "django.contrib.messages.middleware.MessageMiddleware": {
        "process_request": _message_storage_known,
        "process_response": _messages_untouched,
    },
    "django.middleware.clickjacking.XFrameOptionsMiddleware": {"process_response": _always},
}


def _shared() -> dict[str, Callable[..., Any]]:
    from django.core.handlers.base import BaseHandler
    from django.core.handlers.exception import convert_exception_to_response

    return {
        "django.utils.deprecation.MiddlewareMixin.__init__": MiddlewareMixin.__init__,
        "django.utils.deprecation.MiddlewareMixin.__call__": MiddlewareMixin.__call__,
        "django.utils.deprecation.MiddlewareMixin.__acall__": MiddlewareMixin.__acall__,
        "django.core.handlers.base.BaseHandler.load_middleware": BaseHandler.load_middleware,
        "django.core.handlers.base.BaseHandler._get_response_async": (
            BaseHandler._get_response_async  # type: ignore[attr-defined]
        ),
        "django.core.handlers.exception.convert_exception_to_response": (
            convert_exception_to_response
        ),
    }


def _helpers(path: str) -> dict[str, Callable[..., Any]]:
    """Functions besides the hooks that a class's rules were read from (imported lazily)."""
    found: dict[str, Callable[..., Any]] = {}
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
            found[f"{_path(cls)}.__init__"] = vars(cls)["__init__"]
    return found


def relied_on(cls: type | None = None) -> dict[str, Callable[..., Any]]:
    """The Django functions the rules for `cls` (else the shared code) were read from."""
    if cls is None:
        return _shared()
    path = _path(cls)
    found = {f"{path}.{name}": getattr(cls, name) for name in RULES[path]}
    found.update(_helpers(path))
    return found


# Fingerprints (`_asgi_compat.fingerprint`) of the code the rules were read from, each with
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
    from daf_drf._asgi_compat import fingerprint

    return {name: fingerprint(func) for name, func in relied_on(cls).items()}


_verdicts: dict[Any, bool] = {}


def verified(cls: type | None = None) -> bool:
    """Whether the installed code the rules for `cls` (or the shared code) rely on is known."""
    verdict = _verdicts.get(cls)
    if verdict is None:
        found = current(cls)
        verdict = _verdicts[cls] = all(
            KNOWN.get(name, ()) and digest in KNOWN[name] for name, digest in found.items()
        )
    return verdict


def _inline_acall(mw: Any, hooks: dict[str, Rule]) -> Callable[[Any], Any]:
    """`MiddlewareMixin.__acall__`, statement for statement, with each hook inline when safe."""
    process_request: Callable[..., Any] | None = getattr(mw, "process_request", None)
    process_response: Callable[..., Any] | None = getattr(mw, "process_response", None)
    request_rule: Rule = hooks.get("process_request", _never)
    response_rule: Rule = hooks.get("process_response", _never)

    async def acall(request: Any) -> Any:
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
                hop = sync_to_async(process_response, thread_sensitive=True)
                response = await hop(request, response)
        return response

    return acall


def _inline_process_view(mw: Any, adapted: Any, rule: Rule) -> Callable[..., Any]:
    """A `process_view` entry of `_view_middleware`: inline when `rule` holds, else Django's."""
    process_view = mw.process_view

    async def view_hook(request: Any, callback: Any, args: Any, kwargs: Any) -> Any:
        if rule(mw, request, callback, args, kwargs):
            return process_view(request, callback, args, kwargs)
        return await adapted(request, callback, args, kwargs)

    return view_hook


def _chain_instances(chain: Any) -> list[Any]:
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


def install(handler: Any) -> list[str]:
    """
    Let the known middleware of `handler`'s async chain run their hooks on the loop.

    Returns the class names it applied to. Call after `load_middleware(is_async=True)`.
    """
    if not verified():
        return []
    applied = []
    for mw in _chain_instances(handler._middleware_chain):
        cls = type(mw)
        hooks = RULES.get(_path(cls))
        # Only Django's exact class, in async mode, with the code the rules were read from.
        if hooks is None or not mw.async_mode or not verified(cls):
            continue
        # `MiddlewareMixin.__call__` returns `self.__acall__(request)`, a plain lookup: an
        # instance attribute of that name replaces it for this instance only.
        mw.__acall__ = _inline_acall(mw, hooks)
        applied.append(cls.__name__)
        view_rule = hooks.get("process_view")
        if view_rule is None:
            continue
        for index, adapted in enumerate(handler._view_middleware):
            bound = getattr(adapted, "func", None)
            if (
                isinstance(adapted, SyncToAsync)
                and getattr(bound, "__self__", None) is mw
                and getattr(bound, "__func__", None) is getattr(cls, "process_view", None)
            ):
                handler._view_middleware[index] = _inline_process_view(mw, adapted, view_rule)
    return applied
