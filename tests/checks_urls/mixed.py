"""A half-migrated URLconf: one view still on DRF, one on daf_drf."""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView as DRFView

from daf_drf.views import APIView


class StillOnDRF(DRFView):
    def get(self, request: Any) -> Response:
        return Response({})


class Migrated(APIView):
    async def get(self, request: Any) -> Response:
        return Response({})


urlpatterns = [path("legacy/", StillOnDRF.as_view()), path("new/", Migrated.as_view())]
