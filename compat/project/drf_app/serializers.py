"""Serializers of the compat project: plain DRF, shared by the DRF and daf_drf views."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from compat.project.drf_app.models import Label, Project, Ticket


class ProjectSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    owner = serializers.ReadOnlyField(source="owner.username")

    class Meta:
        model = Project
        fields = ["id", "name", "description", "owner", "is_public", "archived"]
        read_only_fields = ["archived"]

    def validate_name(self, value: str) -> str:
        if value.strip().lower() in {"admin", "api", "root"}:
            raise serializers.ValidationError("This name is reserved.", code="reserved")
        return value


class TicketSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    labels = serializers.SlugRelatedField(
        many=True, slug_field="name", queryset=Label.objects.all(), required=False
    )

    class Meta:
        model = Ticket
        fields = ["id", "project", "title", "status", "priority", "assignee", "labels"]

    def validate_priority(self, value: int) -> int:
        if not 1 <= value <= 5:
            raise serializers.ValidationError("Priority must be between 1 and 5.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        project = attrs.get("project") or getattr(self.instance, "project", None)
        if project is not None and project.archived:
            raise serializers.ValidationError(
                {"project": "Tickets of an archived project are read-only."}, code="archived"
            )
        return attrs


class LabelBatchSerializer(serializers.Serializer):  # type: ignore[type-arg]
    names = serializers.ListField(
        child=serializers.CharField(max_length=30), min_length=1, max_length=10
    )


class EchoSerializer(serializers.Serializer):  # type: ignore[type-arg]
    message = serializers.CharField(max_length=50)
    repeat = serializers.IntegerField(min_value=1, max_value=3, default=1)
