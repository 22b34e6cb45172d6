"""
Hooks of the async-safety sweep, in the shapes projects write them: authenticators,
permissions and throttles that query the ORM synchronously or through the async ORM, and
exception handlers that write an audit row. `safety_views.py` mounts them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.cache import caches
from rest_framework import authentication as drf_authentication
from rest_framework import exceptions
from rest_framework import throttling as drf_throttling
from rest_framework import views as drf_views
from rest_framework.response import Response

from daf_drf import authentication, permissions, throttling
from daf_drf.hooks import inline_safe
from tests.models import AuditEntry, Author

# --- authenticators -------------------------------------------------------------------------------


class SyncOrmAuthentication(drf_authentication.BaseAuthentication):
    """A project's sync authenticator: `Authorization: Project <username>`, a sync ORM query."""

    def authenticate(self, request: Any) -> tuple[Any, None] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, username = header.partition(" ")
        if scheme != "Project":
            return None
        try:
            return (User.objects.get(username=username, is_active=True), None)
        except User.DoesNotExist:
            raise exceptions.AuthenticationFailed("Unknown project user.") from None

    def authenticate_header(self, request: Any) -> str:
        return "Project"


class AsyncOrmAuthentication(drf_authentication.BaseAuthentication):
    """An `async def authenticate` reading `X-Async-User` through the async ORM."""

    async def authenticate(self, request: Any) -> tuple[Any, None] | None:  # type: ignore[override]
        username = request.META.get("HTTP_X_ASYNC_USER")
        if not username:
            return None
        try:
            return (await User.objects.aget(username=username, is_active=True), None)
        except User.DoesNotExist:
            raise exceptions.AuthenticationFailed("Unknown async user.") from None


class ExpiringTokenAuthentication(authentication.TokenAuthentication):
    """daf_drf's token authentication with a project's sync, ORM-reading credential check."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if Author.objects.filter(name=f"expired:{user.username}").exists():
            raise exceptions.AuthenticationFailed("Token has expired.")
        return (user, token)


class CsrfExemptSessionAuthentication(authentication.SessionAuthentication):
    """daf_drf's session authentication with DRF's CSRF-exempt idiom."""

    def enforce_csrf(self, request: Any) -> None:
        return


AUTHENTICATORS: dict[str, list[type]] = {
    "session": [authentication.SessionAuthentication],
    "token": [authentication.TokenAuthentication],
    "basic": [authentication.BasicAuthentication],
    "drf_session": [drf_authentication.SessionAuthentication],
    "drf_token": [drf_authentication.TokenAuthentication],
    "drf_basic": [drf_authentication.BasicAuthentication],
    "token_override": [ExpiringTokenAuthentication],
    "session_csrf_exempt": [CsrfExemptSessionAuthentication],
    "sync_orm": [SyncOrmAuthentication],
    "async_orm": [AsyncOrmAuthentication],
    # Every authenticator in one list: an anonymous request runs each of them.
    "all": [
        authentication.TokenAuthentication,
        authentication.SessionAuthentication,
        authentication.BasicAuthentication,
        drf_authentication.SessionAuthentication,
        drf_authentication.TokenAuthentication,
        SyncOrmAuthentication,
        AsyncOrmAuthentication,
    ],
}


# --- permissions ----------------------------------------------------------------------------------

EDITORS = "editors"


class SyncEditorPermission(permissions.BasePermission):
    """A sync permission that queries the ORM (runs in one thread hop)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user.groups.filter(name=EDITORS).exists())


class AsyncEditorPermission(permissions.BasePermission):
    """The same rule through the async ORM (runs on the loop)."""

    async def has_permission(self, request: Any, view: Any) -> bool:  # type: ignore[override]
        return bool(await request.user.groups.filter(name=EDITORS).aexists())


class AsyncBannedPermission(permissions.BasePermission):
    """True for banned users (an `Author` named `banned:<username>`); used under `~`."""

    async def has_permission(self, request: Any, view: Any) -> bool:  # type: ignore[override]
        name = f"banned:{request.user.username}"
        return bool(await Author.objects.filter(name=name).aexists())


PERMISSIONS: dict[str, list[Any]] = {
    "is_authenticated": [permissions.IsAuthenticated],
    "sync_orm": [SyncEditorPermission],
    "async_orm": [AsyncEditorPermission],
    "composite": [
        permissions.IsAuthenticated
        & (AsyncEditorPermission | SyncEditorPermission)
        & ~AsyncBannedPermission
    ],
}


# --- throttles ------------------------------------------------------------------------------------

RATES = {"anon": "2/min", "user": "2/min", "sweep": "2/min", "project": "2/min"}


class SweepAnon(throttling.AnonRateThrottle):
    THROTTLE_RATES = RATES


class SweepUser(throttling.UserRateThrottle):
    THROTTLE_RATES = RATES


class SweepScoped(throttling.ScopedRateThrottle):
    THROTTLE_RATES = RATES


def _vip(ident: str) -> bool:
    # A sync ORM query in `get_cache_key`: VIP clients are not throttled.
    return bool(Author.objects.filter(name=f"vip:{ident}").exists())


class DafProjectThrottle(throttling.SimpleRateThrottle):
    """A project's subclass of daf_drf's `SimpleRateThrottle` with a sync, ORM-reading key."""

    scope = "project"
    THROTTLE_RATES = RATES

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        ident = self.get_ident(request)
        if _vip(ident):
            return None
        return self.cache_format % {"scope": self.scope, "ident": ident}


class DrfProjectThrottle(drf_throttling.SimpleRateThrottle):
    """A project's throttle written for DRF (sync `allow_request`, the Django cache)."""

    scope = "project"
    THROTTLE_RATES = RATES

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        ident = self.get_ident(request)
        if _vip(ident):
            return None
        return self.cache_format % {"scope": "drf-project", "ident": ident}


class DrfProjectDbCacheThrottle(DrfProjectThrottle):
    """The same on a `DatabaseCache`, which queries the database for every check."""

    @property  # type: ignore[override]
    def cache(self) -> Any:
        return caches["sweepdb"]


class OrmIdentAnonThrottle(SweepAnon):
    """daf_drf's `AnonRateThrottle` with a project's `get_ident` that queries the ORM."""

    scope = "anon"
    cache_format = "throttle_orm_%(scope)s_%(ident)s"

    def get_ident(self, request: Any) -> str:
        ident = str(super().get_ident(request))
        Author.objects.filter(name=f"vip:{ident}").exists()  # a lookup, as a project might
        return ident


class AsyncOrmThrottle(throttling.BaseThrottle):
    """An `async def allow_request` that denies blocked clients found by the async ORM."""

    async def allow_request(self, request: Any, view: Any) -> bool:  # type: ignore[override]
        name = f"blocked:{self.get_ident(request)}"
        return not await Author.objects.filter(name=name).aexists()

    def wait(self) -> float:
        return 7.0


THROTTLES: dict[str, type] = {
    "anon": SweepAnon,
    "user": SweepUser,
    "scoped": SweepScoped,
    "daf_project": DafProjectThrottle,
    "anon_orm_ident": OrmIdentAnonThrottle,
}
"""daf_drf throttles: each one runs on every store of the sweep."""


CACHE_ONLY_THROTTLES: dict[str, type] = {
    "drf_project": DrfProjectThrottle,
    "drf_project_dbcache": DrfProjectDbCacheThrottle,
}
"""Throttles written for DRF: their store is their `cache` attribute, not THROTTLE_STORE."""


# --- exception handlers ---------------------------------------------------------------------------


def sync_audit_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """A sync `EXCEPTION_HANDLER` that writes an audit row with the sync ORM."""
    AuditEntry.objects.create(message=f"sync {type(exc).__name__} {context['request'].path}")
    return drf_views.exception_handler(exc, context)


async def async_audit_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """An async `EXCEPTION_HANDLER` that writes an audit row with the async ORM."""
    path_ = context["request"].path
    await AuditEntry.objects.acreate(message=f"async {type(exc).__name__} {path_}")
    return drf_views.exception_handler(exc, context)


EXCEPTION_HANDLERS = {
    "drf_default": "rest_framework.views.exception_handler",
    "daf_default": "daf_drf.exceptions.exception_handler",
    "sync_audit": "tests.reliability.safety_hooks.sync_audit_handler",
    "async_audit": "tests.reliability.safety_hooks.async_audit_handler",
    "problem_details": "daf_drf.exceptions.problem_details_handler",
}


class ZeroThrottle(throttling.SimpleRateThrottle):
    """Denies every request (`0/min`) on the memory store."""

    rate = "0/min"
    store = "memory://"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return "zero"


# --- object permissions of the viewsets -----------------------------------------------------------


class NotLockedPermission(permissions.BasePermission):
    """Sync object permission: follows the `author` foreign key (a lazy sync query)."""

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return bool(obj.author.name != "Locked")


class NotArchivedPermission(permissions.BasePermission):
    """Async object permission through the async ORM."""

    async def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:  # type: ignore[override]
        return not await Author.objects.filter(pk=obj.author_id, name="Archived").aexists()


# --- a negative control: an ORM hook declared pure ------------------------------------------------


@inline_safe
class MisclassifiedPermission(permissions.BasePermission):
    """Declared pure but queries the ORM: daf_drf runs it inline, on the loop."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(User.objects.filter(pk=request.user.pk).exists())
