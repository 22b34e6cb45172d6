"""
The compat project's API as DRF projects write it today: sync views throughout.

`compat/project/daf_app/views.py` holds the same endpoints migrated to daf_drf; each class and
function there keeps the name and docstring it has here, so the browsable API renders both
identically.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from rest_framework import decorators as drf_decorators
from rest_framework import generics, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from compat.project.drf_app.filters import TicketFilter
from compat.project.drf_app.models import Label, Project, Ticket
from compat.project.drf_app.permissions import (
    IsOwnerOrReadOnly,
    IsProjectMember,
    NotReadOnlyClient,
    ProjectQuota,
)
from compat.project.drf_app.serializers import (
    EchoSerializer,
    LabelBatchSerializer,
    ProjectSerializer,
    TicketSerializer,
)


def visible_projects(user: Any) -> Any:
    """Public projects, plus the user's own private ones."""
    queryset = Project.objects.select_related("owner")
    if user.is_authenticated:
        return queryset.filter(Q(is_public=True) | Q(owner=user))
    return queryset.filter(is_public=True)


class ProjectViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Projects: public ones for everybody, private ones for their owner."""

    serializer_class = ProjectSerializer
    permission_classes = [
        IsAuthenticatedOrReadOnly,
        NotReadOnlyClient,
        IsOwnerOrReadOnly,
        ProjectQuota,
    ]
    filterset_fields = ["is_public", "archived"]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "id"]

    def get_queryset(self) -> Any:
        return visible_projects(self.request.user)

    def perform_create(self, serializer: Any) -> None:
        serializer.save(owner=self.request.user)

    @action(detail=True, methods=["post"])
    def archive(self, request: Any, pk: Any = None) -> Response:
        """Archive a project: its tickets become read-only."""
        project = self.get_object()
        project.archived = True
        project.save(update_fields=["archived"])
        return Response(self.get_serializer(project).data)


class TicketList(generics.ListCreateAPIView):  # type: ignore[type-arg]
    """Tickets of the projects you can see."""

    serializer_class = TicketSerializer
    permission_classes = [IsAuthenticatedOrReadOnly, NotReadOnlyClient]
    filterset_class = TicketFilter
    ordering_fields = ["priority", "id"]
    search_fields = ["title"]

    def get_queryset(self) -> Any:
        projects = visible_projects(self.request.user)
        return Ticket.objects.filter(project__in=projects).prefetch_related("labels")


class TicketDetail(generics.RetrieveUpdateDestroyAPIView):  # type: ignore[type-arg]
    """One ticket; project members may change it."""

    serializer_class = TicketSerializer
    permission_classes = [IsAuthenticatedOrReadOnly, IsProjectMember]

    def get_queryset(self) -> Any:
        return Ticket.objects.filter(project__in=visible_projects(self.request.user))


class ProjectStats(APIView):
    """Ticket counts of one project, by status."""

    permission_classes = [IsAuthenticatedOrReadOnly, IsOwnerOrReadOnly]
    throttle_scope = "stats"

    def get(self, request: Any, pk: int) -> Response:
        project = get_object_or_404(visible_projects(request.user), pk=pk)
        self.check_object_permissions(request, project)
        counts = dict(project.tickets.values_list("status").annotate(n=Count("id")).order_by())
        return Response(
            {
                "project": project.name,
                "tickets": {status: counts.get(status, 0) for status in Ticket.Status.values},
            }
        )


@api_view(["GET"])
@permission_classes([AllowAny])
def health(request: Any) -> Response:
    """Liveness probe."""
    return Response({"status": "ok"})


@api_view(["GET"])
@permission_classes([IsAuthenticated])
def whoami(request: Any) -> Response:
    """The authenticated user."""
    return Response(
        {"username": request.user.username, "auth": type(request.successful_authenticator).__name__}
    )


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
def echo(request: Any) -> Response:
    """Echo a validated message back, `repeat` times."""
    if request.method == "GET":
        return Response({"usage": "POST {'message': str, 'repeat': 1-3}"})
    serializer = EchoSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return Response({"echo": [data["message"]] * data["repeat"]}, status=201)


def _throttle_scope(scope: str) -> Any:
    # DRF 3.18 added @throttle_scope for function views; on older DRF the scope is set on the
    # view class below, which is what 3.18's decorator does.
    scoped = getattr(drf_decorators, "throttle_scope", None)
    return scoped(scope) if scoped else (lambda func: func)


@api_view(["POST"])
@permission_classes([IsAuthenticated])
@_throttle_scope("labels")
def create_labels(request: Any) -> Response:
    """Create several labels at once: all of them, or none (the request is atomic)."""
    serializer = LabelBatchSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    created = []
    for name in serializer.validated_data["names"]:
        if Label.objects.filter(name=name).exists():
            # Raised after earlier labels were created: ATOMIC_REQUESTS rolls them back.
            raise ValidationError({"names": [f"Label {name!r} already exists."]})
        created.append(Label.objects.create(name=name).name)
    return Response({"created": created}, status=201)


@api_view(["GET"])
@permission_classes([AllowAny])
def labels(request: Any) -> Response:
    """Every label, by name."""
    return Response({"labels": list(Label.objects.values_list("name", flat=True))})


__all__ = [
    "ProjectStats",
    "ProjectViewSet",
    "TicketDetail",
    "TicketList",
    "create_labels",
    "echo",
    "health",
    "labels",
    "whoami",
]


if not hasattr(drf_decorators, "throttle_scope"):
    create_labels.cls.throttle_scope = "labels"  # type: ignore[attr-defined]
