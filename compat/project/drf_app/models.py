"""Models of the compat project: projects owned by users, tickets with labels."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Label(models.Model):
    name = models.CharField(max_length=30, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    name = models.CharField(max_length=60, unique=True)
    description = models.TextField(blank=True, default="")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compat_projects"
    )
    is_public = models.BooleanField(default=True)
    archived = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Ticket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        DOING = "doing"
        DONE = "done"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tickets")
    title = models.CharField(max_length=100)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    priority = models.PositiveSmallIntegerField(default=3)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="compat_tickets",
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="tickets")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class ErrorLog(models.Model):
    """Written by the project's exception handler for every 401/403: ORM work in a handler."""

    status = models.PositiveSmallIntegerField()
    path = models.CharField(max_length=200)
    code = models.CharField(max_length=60, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.status} {self.path}"
