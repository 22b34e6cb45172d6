"""django-filter filtersets of the compat project."""

from __future__ import annotations

import django_filters

from compat.project.drf_app.models import Ticket


class TicketFilter(django_filters.FilterSet):
    min_priority = django_filters.NumberFilter(field_name="priority", lookup_expr="gte")
    label = django_filters.CharFilter(field_name="labels__name")

    class Meta:
        model = Ticket
        fields = ["project", "status", "assignee"]
