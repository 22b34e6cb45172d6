"""Async endpoints that enqueue tasks and answer 202 with a Location."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from daf_drf.tasks import TaskStatusView, enqueue_response
from daf_drf.views import APIView
from tests.tasks_project.tasks import add, echo, explode


class AddView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    async def post(self, request: Any) -> Response:
        return await enqueue_response(add, request.data["a"], request.data["b"], request=request)


class ExplodeView(APIView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    async def post(self, request: Any) -> Response:
        return await enqueue_response(explode, request.data["reason"], request=request)


class EchoWithDatetimeView(APIView):
    """Passes a datetime, which no JSON backend can store: a programming error."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    async def post(self, request: Any) -> Response:
        from django.utils import timezone

        return await enqueue_response(echo, when=timezone.now(), request=request)


class TokenTaskStatusView(TaskStatusView):
    # DRF reads DEFAULT_AUTHENTICATION_CLASSES when a view class is defined, so the test
    # project names its authentication on each view.
    authentication_classes = [TokenAuthentication]


class StaffSharedTaskStatusView(TokenTaskStatusView):
    """Staff may read anyone's task: decided with an ORM query, as projects do."""

    def has_task_permission(self, request: Any, ref: dict[str, Any], owner: str | None) -> bool:
        staff = User.objects.filter(pk=request.user.pk, is_staff=True).exists()
        return staff or super().has_task_permission(request, ref, owner)
