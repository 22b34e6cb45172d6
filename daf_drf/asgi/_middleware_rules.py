"""
The middleware rules: when a hook of Django's standard middleware may run on the event loop.

Each rule below is read from the hook's source: the hook touches no database connection and
no thread-local state when it holds, so running it on the loop has the effect of Django's
thread hop. That source is fingerprinted (`daf_drf.asgi._middleware`): a rule is used only
while Django's code is the one it was read from. `RULES` maps Django's exact class (by
dotted path) to a rule per hook; a rule is called with the middleware instance and the
hook's own arguments and says whether the hook may run inline for this request.

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
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.deprecation import MiddlewareMixin

if TYPE_CHECKING:
    from django.contrib.sessions.middleware import SessionMiddleware

__all__ = ["RULES", "Rule", "never", "path_of"]

# A hook's rule: called with the middleware and the hook's own arguments; `True` runs the hook
# inline. Each rule takes the arguments of the hook it guards, hence `...`.
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


def path_of(cls: type) -> str:
    """The dotted path of a class, as `RULES` and the fingerprint tables name it."""
    return f"{cls.__module__}.{cls.__qualname__}"


def _known_store(cls: type) -> bool:
    return cls.__module__ in _SESSION_ENGINES and cls.__qualname__ == "SessionStore"


def _always(mw: MiddlewareMixin, request: HttpRequest, *args: object) -> bool:
    return True


def never(mw: MiddlewareMixin, request: HttpRequest, *args: object) -> bool:
    return False


def _session_store_known(mw: SessionMiddleware, request: HttpRequest) -> bool:
    return _known_store(mw.SessionStore)


def _session_not_saved(
    mw: MiddlewareMixin, request: HttpRequest, response: HttpResponseBase
) -> bool:
    # `process_response` saves (a query) only if `(modified or SESSION_SAVE_EVERY_REQUEST)
    # and not empty`; otherwise it reads flags and sets cookies and headers.
    session = getattr(request, "session", None)
    if session is None:
        return True
    if not _known_store(type(session)):
        return False
    return not session.modified and not settings.SESSION_SAVE_EVERY_REQUEST


def _csrf_cookie_only(mw: MiddlewareMixin, request: HttpRequest, *args: object) -> bool:
    # With CSRF_USE_SESSIONS the secret lives in the session (a query to load it).
    return not settings.CSRF_USE_SESSIONS


def _csrf_early_accept(
    mw: MiddlewareMixin,
    request: HttpRequest,
    callback: Callable[..., object],
    callback_args: tuple[object, ...],
    callback_kwargs: dict[str, object],
) -> bool:
    # The branches of `process_view` that return before reading the body or the session
    # (`_accept` only sets a flag). Anything else (a form POST) runs in Django's hop.
    return bool(
        getattr(request, "csrf_processing_done", False)
        or getattr(callback, "csrf_exempt", False)
        or request.method in _SAFE_METHODS
        or getattr(request, "_dont_enforce_csrf_checks", False)
    )


def _message_storage_known(mw: MiddlewareMixin, request: HttpRequest) -> bool:
    return settings.MESSAGE_STORAGE in _MESSAGE_STORAGES


def _messages_untouched(
    mw: MiddlewareMixin, request: HttpRequest, response: HttpResponseBase
) -> bool:
    # `update()` stores (and may load the session) only if messages were read or added.
    storage = getattr(request, "_messages", None)
    if storage is None:
        return True
    if path_of(type(storage)) not in _MESSAGE_STORAGES:
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
