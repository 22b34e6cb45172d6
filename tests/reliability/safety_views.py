"""
Views, hooks and URLs for the async-safety sweep (`test_async_safety.py`).

Every documented kind of hook is here in the shape a project writes it: authenticators,
permissions and throttles that query the ORM synchronously or through the async ORM,
exception handlers that write an audit row, a model viewset behind DRF's `DefaultRouter`, and
a task endpoint. The views are generated per combination so that one URL names one
(authenticator x permission) or (throttle x store) case.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.core.cache import caches
from django.db.models import QuerySet
from django.urls import include, path
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import authentication as drf_authentication
from rest_framework import exceptions, serializers
from rest_framework import permissions as drf_permissions
from rest_framework import throttling as drf_throttling
from rest_framework import views as drf_views
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from daf_drf import authentication, permissions, throttling, viewsets
from daf_drf.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
    throttle_scope,
)
from daf_drf.hooks import inline_safe
from daf_drf.serializers import ais_valid
from daf_drf.tasks import TaskStatusView, enqueue_response, task_status_urlpatterns
from daf_drf.views import APIView
from tests.models import AuditEntry, Author, Book
from tests.tasks_project.tasks import add

# --- authenticators ------------------------------------------------------------------------------


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

# --- permissions ---------------------------------------------------------------------------------

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


def _auth_view(auth: str, perm: str) -> Any:
    class Guarded(APIView):
        authentication_classes = AUTHENTICATORS[auth]
        permission_classes = PERMISSIONS[perm]

        async def get(self, request: Any) -> Response:
            user = await request.auser()
            return Response({"user": user.username})

        async def post(self, request: Any) -> Response:
            user = await request.auser()
            # One async ORM read in the handler too.
            seen = await User.objects.filter(pk=user.pk).acount()
            return Response({"user": user.username, "seen": seen, "data": request.data}, 201)

    Guarded.__name__ = Guarded.__qualname__ = f"Guarded_{auth}_{perm}"
    return Guarded.as_view()


# --- throttles -----------------------------------------------------------------------------------

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
}
"""daf_drf throttles: each one runs on every store of the sweep."""

CACHE_ONLY_THROTTLES: dict[str, type] = {
    "drf_project": DrfProjectThrottle,
    "drf_project_dbcache": DrfProjectDbCacheThrottle,
}
"""Throttles written for DRF: their store is their `cache` attribute, not THROTTLE_STORE."""


def _throttle_view(name: str, throttle: type) -> Any:
    class Throttled(APIView):
        authentication_classes = [authentication.TokenAuthentication]
        permission_classes = [permissions.IsAuthenticated] if name == "user" else []
        throttle_classes = [throttle]
        throttle_scope = "sweep"

        async def get(self, request: Any) -> Response:
            return Response({"throttle": name})

    Throttled.__name__ = Throttled.__qualname__ = f"Throttled_{name}"
    return Throttled.as_view()


# --- exception handlers --------------------------------------------------------------------------


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
    "sync_audit": "tests.reliability.safety_views.sync_audit_handler",
    "async_audit": "tests.reliability.safety_views.async_audit_handler",
    "problem_details": "daf_drf.exceptions.problem_details_handler",
}


class ZeroThrottle(throttling.SimpleRateThrottle):
    """Denies every request (`0/min`) on the memory store."""

    rate = "0/min"
    store = "memory://"

    def get_cache_key(self, request: Any, view: Any) -> str:
        return "zero"


class BookSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    review_count = serializers.SerializerMethodField()

    class Meta:
        model = Book
        fields = ["id", "title", "isbn", "price", "author", "review_count"]

    async def get_review_count(self, obj: Book) -> int:
        # An async method field: awaited on the loop by daf_drf after `.data` is built.
        return await obj.reviews.acount()


class RaiseNotFound(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        raise exceptions.NotFound()


class RequireToken(APIView):
    authentication_classes = [authentication.TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    async def get(self, request: Any) -> Response:
        return Response({})


class AlwaysThrottled(APIView):
    authentication_classes: list[Any] = []
    throttle_classes = [ZeroThrottle]

    async def get(self, request: Any) -> Response:
        return Response({})


class InvalidBody(APIView):
    authentication_classes: list[Any] = []

    async def post(self, request: Any) -> Response:
        serializer = BookSerializer(data=request.data)
        await ais_valid(serializer, raise_exception=True)
        return Response({}, status=201)


class Crash(APIView):
    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        raise ValueError("an unhandled error")


# --- generic views and viewsets ------------------------------------------------------------------


class NotLockedPermission(permissions.BasePermission):
    """Sync object permission: follows the `author` foreign key (a lazy sync query)."""

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        return bool(obj.author.name != "Locked")


class NotArchivedPermission(permissions.BasePermission):
    """Async object permission through the async ORM."""

    async def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:  # type: ignore[override]
        return not await Author.objects.filter(pk=obj.author_id, name="Archived").aexists()


class PageOf2(PageNumberPagination):
    page_size = 2


class BookViewSet(viewsets.ModelViewSet):
    """DRF's defaults for every hook: list/create/update run in one thread hop each."""

    queryset = Book.objects.all()
    serializer_class = BookSerializer
    authentication_classes = [authentication.TokenAuthentication]
    permission_classes = [
        permissions.IsAuthenticated,
        permissions.DjangoModelPermissions,
        NotLockedPermission,
        NotArchivedPermission,
    ]
    pagination_class = PageOf2
    filter_backends = [DjangoFilterBackend, SearchFilter, OrderingFilter]
    filterset_fields = ["author"]
    search_fields = ["title"]
    ordering_fields = ["price", "title"]

    @action(detail=True, methods=["get"])
    async def summary(self, request: Any, pk: Any = None) -> Response:
        book = await self.aget_object()
        return Response({"title": book.title, "reviews": await book.reviews.acount()})


class AsyncHookBookViewSet(BookViewSet):
    """Async hooks: the pipelines run on the loop, each sync step in its own hop."""

    async def get_queryset(self) -> QuerySet[Book]:  # type: ignore[override]
        return Book.objects.select_related("author")

    async def perform_create(self, serializer: Any) -> None:
        await AuditEntry.objects.acreate(message="perform_create")
        await super().perform_create(serializer)

    async def perform_destroy(self, instance: Any) -> None:
        await instance.adelete()


class DrfPermissionBookViewSet(AsyncHookBookViewSet):
    """Async hooks with `DjangoModelPermissions` imported from DRF itself."""

    permission_classes = [
        permissions.IsAuthenticated,
        drf_permissions.DjangoModelPermissions,
        NotLockedPermission,
        NotArchivedPermission,
    ]


router = DefaultRouter()
router.register("books", BookViewSet, basename="sweep-book")
router.register("abooks", AsyncHookBookViewSet, basename="sweep-abook")
router.register("drfbooks", DrfPermissionBookViewSet, basename="sweep-drfbook")

# --- tasks ---------------------------------------------------------------------------------------


class EnqueueAdd(APIView):
    authentication_classes = AUTHENTICATORS["all"]
    permission_classes = [permissions.IsAuthenticated]

    async def post(self, request: Any) -> Response:
        return await enqueue_response(add, request.data["a"], request.data["b"], request=request)


class SweepTaskStatusView(TaskStatusView):
    authentication_classes = AUTHENTICATORS["all"]


@api_view(["GET", "POST"])
@authentication_classes(AUTHENTICATORS["all"])
@permission_classes(PERMISSIONS["composite"])
@throttle_classes([SweepScoped])
@throttle_scope("sweep")
async def whoami(request: Any) -> Response:
    """An `@api_view` function view with every authenticator, the composite and a throttle."""
    user = await request.auser()
    return Response({"user": user.username, "books": await Book.objects.acount()})


# --- the negative controls -----------------------------------------------------------------------


class UnsafeView(APIView):
    """A deliberately unsafe view: a sync ORM call directly on the event loop."""

    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        return Response({"users": User.objects.count()})


class SwallowingUnsafeView(APIView):
    """The same mistake, hidden: the error is caught and a 200 answered (a fail-open shape)."""

    authentication_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        try:
            count = User.objects.count()
        except Exception:
            count = -1
        return Response({"users": count})


# --- views written for DRF: sync overrides of dispatch steps ----------------------------------


class _Overridden(APIView):
    authentication_classes = [authentication.TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    async def get(self, request: Any) -> Response:
        user = await request.auser()
        return Response({"user": user.username})


class SyncInitialView(_Overridden):
    permission_classes = [SyncEditorPermission]

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        AuditEntry.objects.create(message="initial")


class SyncCheckPermissionsView(_Overridden):
    # An async permission reached through a sync override: awaited from its thread.
    permission_classes = [AsyncEditorPermission]

    def check_permissions(self, request: Any) -> None:
        AuditEntry.objects.create(message="check_permissions")
        super().check_permissions(request)


class SyncCheckThrottlesView(_Overridden):
    permission_classes: list[Any] = []
    throttle_classes = [SweepAnon]

    def check_throttles(self, request: Any) -> None:
        AuditEntry.objects.create(message="check_throttles")
        super().check_throttles(request)


class SyncHandleExceptionView(_Overridden):
    async def get(self, request: Any) -> Response:
        raise exceptions.NotFound()

    def handle_exception(self, exc: Exception) -> Any:
        AuditEntry.objects.create(message="handle_exception")
        return super().handle_exception(exc)


class SyncPerformAuthenticationView(_Overridden):
    def perform_authentication(self, request: Any) -> None:
        AuditEntry.objects.create(message="perform_authentication")
        request.user  # noqa: B018 - DRF's body: authenticate now, in this thread


class LazyAuthenticationView(_Overridden):
    # DRF's lazy-authentication idiom: the permission's read of request.user authenticates.
    def perform_authentication(self, request: Any) -> None:
        pass


class SyncOptionsView(_Overridden):
    def options(self, request: Any, *args: Any, **kwargs: Any) -> Response:  # type: ignore[override]
        return Response({"books": Book.objects.count()})


OVERRIDE_VIEWS = {
    "initial": SyncInitialView,
    "check-permissions": SyncCheckPermissionsView,
    "check-throttles": SyncCheckThrottlesView,
    "handle-exception": SyncHandleExceptionView,
    "perform-authentication": SyncPerformAuthenticationView,
    "lazy-authentication": LazyAuthenticationView,
    "options": SyncOptionsView,
}


@inline_safe
class MisclassifiedPermission(permissions.BasePermission):
    """Declared pure but queries the ORM: daf_drf runs it inline, on the loop."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(User.objects.filter(pk=request.user.pk).exists())


class MisclassifiedHookView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [MisclassifiedPermission]

    async def get(self, request: Any) -> Response:
        return Response({})


urlpatterns = [
    *(
        path(f"auth/{auth}/{perm}/", _auth_view(auth, perm))
        for auth in AUTHENTICATORS
        for perm in PERMISSIONS
    ),
    *(path(f"throttle/{name}/", _throttle_view(name, cls)) for name, cls in THROTTLES.items()),
    *(
        path(f"throttle/{name}/", _throttle_view(name, cls))
        for name, cls in CACHE_ONLY_THROTTLES.items()
    ),
    path("throttle/async_orm/", _throttle_view("async_orm", AsyncOrmThrottle)),
    path("exc/not-found/", RaiseNotFound.as_view()),
    path("exc/not-authenticated/", RequireToken.as_view()),
    path("exc/throttled/", AlwaysThrottled.as_view()),
    path("exc/invalid/", InvalidBody.as_view()),
    path("exc/crash/", Crash.as_view()),
    path("gen/", include(router.urls)),
    path("tasks/add/", EnqueueAdd.as_view()),
    *task_status_urlpatterns("tasks/", SweepTaskStatusView),
    path("unsafe/", UnsafeView.as_view()),
    path("unsafe-swallowed/", SwallowingUnsafeView.as_view()),
    path("unsafe-inline-hook/", MisclassifiedHookView.as_view()),
    path("api-view/", whoami),
    *(path(f"override/{name}/", view.as_view()) for name, view in OVERRIDE_VIEWS.items()),
]
