"""A model for the project's generic views and viewset."""

from django.db import models


class Note(models.Model):
    text = models.CharField(max_length=100)

    class Meta:
        app_label = "startup_project"
