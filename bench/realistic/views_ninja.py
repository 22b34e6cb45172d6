"""django-ninja async operations with the same authentication (session, then DRF's token)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.shortcuts import aget_object_or_404
from ninja import NinjaAPI, Schema
from ninja.security import APIKeyHeader, django_auth
from rest_framework.authtoken.models import Token

from bench.realistic import upstream
from bench.realistic.models import Article


class TokenAuth(APIKeyHeader):
    """DRF's `Authorization: Token <key>` header, looked up with the async ORM."""

    param_name = "Authorization"

    async def authenticate(self, request: Any, key: str | None) -> Any:  # type: ignore[override]
        if not key or not key.startswith("Token "):
            return None
        try:
            token = await Token.objects.select_related("user").aget(key=key[6:])
        except Token.DoesNotExist:
            return None
        return token.user if token.user.is_active else None


# The token first: ninja's session auth enforces CSRF on a POST before the next auth is tried,
# where DRF's SessionAuthentication only enforces it for a session-authenticated user.
api = NinjaAPI(urls_namespace="ninja_realistic", auth=[TokenAuth(), django_auth])


class ArticleOut(Schema):
    id: int
    author: int
    title: str
    body: str
    published: bool
    created: datetime

    @staticmethod
    def resolve_author(obj: Article) -> int:
        return obj.author_id


class ArticleIn(Schema):
    author: int
    title: str
    body: str = ""
    published: bool = True


class ArticlePatch(Schema):
    title: str | None = None
    body: str | None = None
    published: bool | None = None


@api.get("/hello")
async def hello(request: Any) -> dict[str, str]:
    return {"message": "hello"}


@api.get("/upstream")
async def call_upstream(request: Any) -> dict[str, int]:
    return {"upstream": await upstream.acall()}


@api.get("/articles/")
async def article_list(request: Any, page: int = 1) -> dict[str, Any]:
    queryset = Article.objects.order_by("id")
    count = await queryset.acount()
    rows = [ArticleOut.from_orm(a).dict() async for a in queryset[(page - 1) * 20 : page * 20]]
    return {"count": count, "results": rows}


@api.post("/articles/", response={201: ArticleOut})
async def article_create(request: Any, payload: ArticleIn) -> tuple[int, Article]:
    article = await Article.objects.acreate(
        author_id=payload.author,
        title=payload.title,
        body=payload.body,
        published=payload.published,
    )
    return 201, article


@api.get("/articles/{pk}/", response=ArticleOut)
async def article_detail(request: Any, pk: int) -> Article:
    return await aget_object_or_404(Article, pk=pk)


@api.patch("/articles/{pk}/", response=ArticleOut)
async def article_update(request: Any, pk: int, payload: ArticlePatch) -> Article:
    article = await aget_object_or_404(Article, pk=pk)
    for field, value in payload.dict(exclude_unset=True).items():
        setattr(article, field, value)
    await article.asave()
    return article
