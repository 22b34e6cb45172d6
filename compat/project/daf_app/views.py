"""
The compat project's API migrated to daf_drf. Compare with `compat/project/drf_app/views.py`:
models, serializers, permissions, filters, the exception handler and the settings are shared.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.shortcuts import aget_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from compat.project.drf_app.filters import TicketFilter
from compat.project.drf_app.models import Label, Ticket
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
from compat.project.drf_app.views import visible_projects
from daf_drf import generics, viewsets
from daf_drf.decorators import action, api_view, permission_classes, throttle_scope
from daf_drf.serializers import adata
from daf_drf.transaction import atomic
from daf_drf.views import APIView


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
    async def archive(self, request: Any, pk: Any = None) -> Response:
        """Archive a project: its tickets become read-only."""
        project = await self.aget_object()
        project.archived = True
        await project.asave(update_fields=["archived"])
        return Response(await adata(self.get_serializer(project)))


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

    async def get(self, request: Any, pk: int) -> Response:
        project = await aget_object_or_404(visible_projects(request.user), pk=pk)
        await self.acheck_object_permissions(request, project)
        rows = project.tickets.values_list("status").annotate(n=Count("id")).order_by()
        counts = {status: n async for status, n in rows}
        return Response(
            {
                "project": project.name,
                "tickets": {status: counts.get(status, 0) for status in Ticket.Status.values},
            }
        )


@api_view(["GET"])
@permission_classes([AllowAny])
async def health(request: Any) -> Response:
    """Liveness probe."""
    return Response({"status": "ok"})


@api_view(["GET"])
@permission_classes([IsAuthenticated])
async def whoami(request: Any) -> Response:
    """The authenticated user."""
    return Response(
        {"username": request.user.username, "auth": type(request.successful_authenticator).__name__}
    )


@api_view(["GET", "POST"])
@permission_classes([AllowAny])
async def echo(request: Any) -> Response:
    """Echo a validated message back, `repeat` times."""
    if request.method == "GET":
        return Response({"usage": "POST {'message': str, 'repeat': 1-3}"})
    # A serializer without database fields validates inline, on the loop.
    serializer = EchoSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    return Response({"echo": [data["message"]] * data["repeat"]}, status=201)


@atomic
def _create_labels(names: list[str]) -> list[str]:
    # ATOMIC_REQUESTS does not wrap async views: the writes that must succeed or fail
    # together run in one thread hop inside their own atomic block (`daf_drf.transaction`).
    created = []
    for name in names:
        if Label.objects.filter(name=name).exists():
            raise ValidationError({"names": [f"Label {name!r} already exists."]})
        created.append(Label.objects.create(name=name).name)
    return created


@api_view(["POST"])
@permission_classes([IsAuthenticated])
@throttle_scope("labels")
async def create_labels(request: Any) -> Response:
    """Create several labels at once: all of them, or none (the request is atomic)."""
    serializer = LabelBatchSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    created = await _create_labels(serializer.validated_data["names"])
    return Response({"created": created}, status=201)


@api_view(["GET"])
@permission_classes([AllowAny])
async def labels(request: Any) -> Response:
    """Every label, by name."""
    return Response(
        {"labels": [name async for name in Label.objects.values_list("name", flat=True)]}
    )
