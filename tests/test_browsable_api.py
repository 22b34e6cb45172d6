"""
The browsable API of daf_drf viewsets, through Django's ASGI handler: DRF's renderer builds its
forms in a worker thread with sync calls (`get_serializer(instance)`, `serializer.data`), and
an `async def` `SerializerMethodField` there is awaited on the loop in one hop, not left as a
coroutine in the form.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from django.contrib.auth.models import User
from django.test import TestCase, override_settings
from rest_framework import serializers

from daf_drf.serializers import adata, resolve_data_sync
from daf_drf.test import AsyncAPIClient
from tests.models import Author, Book

HTML = {"Accept": "text/html"}


def _raw_form_json(page: str) -> object:
    # The "Raw data" tab's textarea holds `serializer.data` of the form's serializer as JSON.
    match = re.search(r'<textarea[^>]*name="_content"[^>]*>(.*?)</textarea>', page, re.S)
    assert match is not None, "no raw data form on the page"
    return json.loads(html.unescape(match.group(1)))


@override_settings(ROOT_URLCONF="tests.browsable_api")
class MethodFieldFormTests(TestCase):
    client_class = AsyncAPIClient

    @classmethod
    def setUpTestData(cls) -> None:
        ann = Author.objects.create(name="Ann")
        Book.objects.create(id=1, title="Dune", isbn="1", author=ann)
        cls.admin = User.objects.create_superuser("admin", "a@example.org", "pw")

    async def test_detail_page_put_form_holds_the_awaited_method_field(self) -> None:
        self.client.force_authenticate(self.admin)
        response = await self.client.get("/method-field-books/1/", headers=HTML)
        page = response.content.decode()
        assert response.status_code == 200, page[-2000:]
        assert "coroutine" not in page
        assert _raw_form_json(page) == {
            "id": 1,
            "title": "Dune",
            "isbn": "1",
            "pages": 100,
            "author": 1,
            "author_name": "by Ann",
        }

    async def test_list_page_and_post_form_render(self) -> None:
        self.client.force_authenticate(self.admin)
        response = await self.client.get("/method-field-books/", headers=HTML)
        page = response.content.decode()
        assert response.status_code == 200, page[-2000:]
        assert "by Ann" in page
        assert 'name="title"' in page  # the HTML form for POST

    async def test_post_from_the_html_form_creates_and_renders_the_new_object(self) -> None:
        self.client.force_authenticate(self.admin)
        form = {"title": "Emma", "isbn": "2", "pages": "5", "author": "1"}
        response = await self.client.post("/method-field-books/", form, headers=HTML)
        page = response.content.decode()
        assert response.status_code == 201, page[-2000:]
        assert await Book.objects.filter(title="Emma").aexists()
        assert "coroutine" not in page


class DoublingSerializer(serializers.Serializer):  # type: ignore[type-arg]
    doubled = serializers.SerializerMethodField()

    async def get_doubled(self, obj: dict[str, int]) -> int:
        return obj["value"] * 2


def test_resolve_data_sync_awaits_method_fields_where_no_loop_runs() -> None:
    # A management command or a WSGI request: `async_to_sync` runs its own loop.
    serializer = resolve_data_sync(DoublingSerializer(instance={"value": 21}))
    assert serializer.data == {"doubled": 42}


@pytest.mark.asyncio
async def test_resolve_data_sync_leaves_serializers_alone_on_the_event_loop() -> None:
    serializer = resolve_data_sync(DoublingSerializer(instance={"value": 21}))
    assert not hasattr(serializer, "_data")
    assert await adata(serializer) == {"doubled": 42}


def test_resolve_data_sync_leaves_serializers_with_input_data_alone() -> None:
    serializer = resolve_data_sync(DoublingSerializer(instance={"value": 1}, data={}))
    assert not hasattr(serializer, "_data")


def test_resolve_data_sync_leaves_lists_to_the_pipeline() -> None:
    # daf_drf's list pipeline builds `.data` in its hop and awaits the slots on the loop.
    serializer = resolve_data_sync(DoublingSerializer(instance=[{"value": 1}], many=True))
    assert not hasattr(serializer, "_data")
