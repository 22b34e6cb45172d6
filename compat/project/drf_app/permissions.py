"""
Custom permissions of the compat project: sync, as DRF projects write them. Two of them
query the database, which is why daf_drf must run them in a worker thread.
"""

from __future__ import annotations

from typing import Any

from rest_framework import permissions

from compat.project.drf_app.models import Project

MAX_PROJECTS_PER_USER = 3


class IsOwnerOrReadOnly(permissions.BasePermission):
    """Anyone may read a project; only its owner may change it."""

    message = "Only the project's owner may change it."
    code = "not_owner"

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        owner_id = getattr(obj, "owner_id", None)
        if owner_id is None:
            owner_id = obj.project.owner_id
        return bool(owner_id == request.user.id)


class ProjectQuota(permissions.BasePermission):
    """A user may own at most `MAX_PROJECTS_PER_USER` projects (an ORM query per POST)."""

    message = f"You may own at most {MAX_PROJECTS_PER_USER} projects."
    code = "quota_exceeded"

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method != "POST" or not request.user.is_authenticated:
            return True
        owned = Project.objects.filter(owner=request.user).count()
        return owned < MAX_PROJECTS_PER_USER


class IsProjectMember(permissions.BasePermission):
    """Only the owner of a ticket's project, or its assignee, may change a ticket."""

    message = "Only project members may change tickets."

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        user = request.user
        if obj.assignee_id == user.id:
            return True
        return Project.objects.filter(pk=obj.project_id, owner=user).exists()


class NotReadOnlyClient(permissions.BasePermission):
    """Clients that identify as read-only (`X-Client: readonly`) may not write."""

    message = "This client is read-only."
    code = "read_only_client"

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return request.headers.get("X-Client") != "readonly"
