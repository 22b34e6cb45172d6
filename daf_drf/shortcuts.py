"""
ORM shortcuts for async handlers.

    from daf_drf.shortcuts import aget_object_or_404

    class BookDetail(APIView):
        async def get(self, request, pk):
            book = await aget_object_or_404(Book.objects.select_related("author"), pk=pk)
            return Response(BookSerializer(book).data)
"""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Manager, Model, QuerySet
from django.http import Http404
from django.shortcuts import aget_list_or_404 as _aget_list_or_404
from django.shortcuts import aget_object_or_404 as _aget_object_or_404
from rest_framework.generics import get_object_or_404

__all__ = ["aget_list_or_404", "aget_object_or_404", "get_object_or_404"]

M = TypeVar("M", bound=Model)


async def aget_object_or_404(
    queryset: type[M] | Manager[M] | QuerySet[M], *filter_args: object, **filter_kwargs: object
) -> M:
    """
    The async twin of DRF's `get_object_or_404`: one query off the loop (Django's
    `QuerySet.aget`), and `Http404` both when nothing matches and when the lookup values have
    the wrong type for the field (`?pk=abc` on an integer key), as DRF answers.

    `queryset` may be a model, a manager or a queryset.
    """
    try:
        return await _aget_object_or_404(queryset, *filter_args, **filter_kwargs)
    except (TypeError, ValueError, ValidationError) as exc:
        raise Http404 from exc


async def aget_list_or_404(
    queryset: type[M] | Manager[M] | QuerySet[M], *filter_args: object, **filter_kwargs: object
) -> list[M]:
    """Evaluate the filtered queryset off the loop; `Http404` if it is empty or mistyped."""
    try:
        return await _aget_list_or_404(queryset, *filter_args, **filter_kwargs)
    except (TypeError, ValueError, ValidationError) as exc:
        raise Http404 from exc
