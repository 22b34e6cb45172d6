"""
The project's URLconf: DRF and daf_drf views side by side, all on the settings' defaults.

`/probe/daf/` and `/probe/drf/` answer every request with 200 whatever the defaults are (they
set their own policies), so a first request proves that the URLconf imported and both kinds
of view dispatch.
"""

from __future__ import annotations

from typing import Any

from django.urls import include, path
from rest_framework import generics as drf_generics
from rest_framework import serializers, viewsets
from rest_framework.decorators import api_view as drf_api_view
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.views import APIView as DrfAPIView

from daf_drf import generics
from daf_drf import viewsets as daf_viewsets
from daf_drf.decorators import api_view
from daf_drf.views import APIView

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "text"]


class Probe(APIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    async def get(self, request: Any) -> Response:
        return Response({"ok": True})


class DrfProbe(DrfAPIView):
    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes: list[Any] = []

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class NoteList(generics.ListCreateAPIView):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer


class DrfNoteList(drf_generics.ListCreateAPIView):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer


class NoteViewSet(daf_viewsets.ModelViewSet):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer


class DrfNoteViewSet(viewsets.ModelViewSet):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer


@api_view(["GET"])
async def hello(request: Any) -> Response:
    return Response({"hello": "async"})


@drf_api_view(["GET"])
def drf_hello(request: Any) -> Response:
    return Response({"hello": "sync"})


router = DefaultRouter()
router.register("notes", NoteViewSet, basename="note")
router.register("drf-notes", DrfNoteViewSet, basename="drf-note")

urlpatterns = [
    path("probe/daf/", Probe.as_view()),
    path("probe/drf/", DrfProbe.as_view()),
    path("note-list/", NoteList.as_view()),
    path("drf-note-list/", DrfNoteList.as_view()),
    path("hello/", hello),
    path("drf-hello/", drf_hello),
    path("api/", include(router.urls)),
]
