"""
The endpoint not migrated yet: plain DRF, sync.

It shares the `quotes` throttle scope with the migrated `QuoteViewSet`, and the project's
throttle classes are daf_drf's, so both count against one limit: five requests a minute per
client, wherever they land.
"""

from __future__ import annotations

from rest_framework import generics

from example.api.models import Quote
from example.api.serializers import QuoteSerializer


class LegacyQuoteList(generics.ListAPIView):  # type: ignore[type-arg]
    """Quotes, still served by DRF's sync `ListAPIView`."""

    queryset = Quote.objects.select_related("author")
    serializer_class = QuoteSerializer
    throttle_scope = "quotes"
