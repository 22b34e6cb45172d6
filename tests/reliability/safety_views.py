"""
Views and URLs of the async-safety sweep (`test_async_safety.py`): one view per
(authenticator x permission) and per throttle, error paths, model viewsets behind DRF's
`DefaultRouter`, a task endpoint, views written for DRF with sync overrides of dispatch steps,
and the deliberately unsafe views of the negative controls. The hooks are in
`safety_hooks.py`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import include, path
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import exceptions, serializers
from rest_framework import permissions as drf_permissions
from rest_framework.filters import OrderingFilter, SearchFilter
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from daf_drf import authentication, permissions, viewsets
from daf_drf.decorators import (
    action,
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
    throttle_scope,
)
from daf_drf.serializers import AsyncSerializerMixin, adata, ais_valid, asave
from daf_drf.tasks import TaskStatusView, enqueue_response, task_status_urlpatterns
from daf_drf.transaction import atomic
from daf_drf.views import APIView
from tests.models import AuditEntry, Author, Book, Review
from tests.reliability.safety_hooks import (
    AUTHENTICATORS,
    CACHE_ONLY_THROTTLES,
    PERMISSIONS,
    THROTTLES,
    AsyncEditorPermission,
    AsyncOrmThrottle,
    MisclassifiedPermission,
    NotArchivedPermission,
    NotLockedPermission,
    SweepAnon,
    SweepScoped,
    SyncEditorPermission,
    ZeroThrottle,
)
from tests.tasks_project.tasks import add


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

    def has_task_permission(self, request: Any, ref: dict[str, Any], owner: str | None) -> bool:
        # Shared with staff: a sync ORM query in the documented override.
        if User.objects.filter(pk=request.user.pk, is_staff=True).exists():
            return True
        return super().has_task_permission(request, ref, owner)


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


class MisclassifiedHookView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [MisclassifiedPermission]

    async def get(self, request: Any) -> Response:
        return Response({})


# --- serializer helpers and transactions -------------------------------------------------------


class ReviewSerializer(AsyncSerializerMixin, serializers.ModelSerializer):  # type: ignore[type-arg]
    # A typed field over an async model property (awaited, then converted, on the loop) and
    # an async model method as a read-only field.
    book_title = serializers.CharField(source="abook_title", read_only=True)
    label = serializers.ReadOnlyField(source="astars_label")

    class Meta:
        model = Review
        fields = ["id", "book", "stars", "book_title", "label"]


class Reviews(APIView):
    authentication_classes = [authentication.TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    async def get(self, request: Any) -> Response:
        reviews = [r async for r in Review.objects.order_by("id")]
        return Response(await adata(ReviewSerializer(reviews, many=True)))

    async def post(self, request: Any) -> Response:
        serializer = ReviewSerializer(data=request.data)
        await serializer.ais_valid(raise_exception=True)
        await serializer.asave()
        return Response(await serializer.adata(), status=201)


class PlainReviewSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Review
        fields = ["id", "book", "stars"]


class PlainReviews(APIView):
    """The function helpers on a plain DRF serializer."""

    authentication_classes = [authentication.TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    async def post(self, request: Any) -> Response:
        serializer = PlainReviewSerializer(data=request.data)
        await ais_valid(serializer, raise_exception=True)
        await asave(serializer)
        return Response(await adata(serializer), status=201)


@atomic
def _rename_author(pk: int, name: str, fail: bool) -> int:
    Author.objects.filter(pk=pk).update(name=name)
    AuditEntry.objects.create(message=f"renamed {pk}")
    if fail:
        raise exceptions.ValidationError({"name": ["rolled back"]})
    return Author.objects.filter(name=name).count()


class RenameAuthor(APIView):
    """`daf_drf.transaction.atomic`: one hop, one transaction; an error rolls it back."""

    authentication_classes = [authentication.TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    async def post(self, request: Any, pk: int) -> Response:
        fail = bool(request.data.get("fail"))
        count = await _rename_author(pk, request.data["name"], fail)
        return Response({"count": count})


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
    path("reviews/", Reviews.as_view()),
    path("plain-reviews/", PlainReviews.as_view()),
    path("authors/<int:pk>/rename/", RenameAuthor.as_view()),
    *(path(f"override/{name}/", view.as_view()) for name, view in OVERRIDE_VIEWS.items()),
]
