"""
django-bolt: the upper anchor for a Django-based API server (its own Rust HTTP server, the
handlers and Django's async ORM in Python), on the cases it can express.

It runs none of Django's middleware (django-bolt has its own, none configured here) and no
throttle, so it does less work per request than every other peer; the token is DRF's, looked
up per request with the async ORM as the ninja peer does. Routes are written without their
trailing slash: the server trims it from the request path before routing. Served by
`manage.py runbolt` (`BOLT_API` in settings.py), not by an ASGI server.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from django_bolt import BoltAPI
from django_bolt.exceptions import NotFound, Unauthorized
from django_bolt.params import Header
from rest_framework.authtoken.models import Token

from bench.realistic import upstream
from bench.realistic.models import Article

# No compression: no other peer compresses (startproject has no GZipMiddleware).
api = BoltAPI(prefix="/bolt", enable_logging=False, compression=False)


# django-bolt hands a handler only the headers it declares (`request["headers"]` is empty in
# a handler with path or query parameters), so every handler declares this one.
Authorization = Annotated[str, Header(alias="authorization")]


async def _authenticate(header: str) -> Any:
    """DRF's `Authorization: Token <key>` header, looked up with the async ORM."""
    if header.startswith("Token "):
        token = await Token.objects.select_related("user").filter(key=header[6:]).afirst()
        if token is not None and token.user.is_active:
            return token.user
    raise Unauthorized(detail="Authentication credentials were not provided.")


class ArticleOut(msgspec.Struct):
    id: int
    author: int
    title: str
    body: str
    published: bool
    created: datetime


class ArticleIn(msgspec.Struct):
    author: int
    title: str
    body: str = ""
    published: bool = True


class ArticlePatch(msgspec.Struct):
    title: str | msgspec.UnsetType = msgspec.UNSET
    body: str | msgspec.UnsetType = msgspec.UNSET
    published: bool | msgspec.UnsetType = msgspec.UNSET


def _out(article: Article) -> ArticleOut:
    return ArticleOut(
        id=article.pk,
        author=article.author_id,
        title=article.title,
        body=article.body,
        published=article.published,
        created=article.created,
    )


async def _article(pk: int) -> Article:
    article = await Article.objects.filter(pk=pk).afirst()
    if article is None:
        raise NotFound(detail="No Article matches the given query.")
    return article


@api.get("/hello")
async def hello(authorization: Authorization = "") -> dict[str, str]:
    await _authenticate(authorization)
    return {"message": "hello"}


@api.get("/upstream")
async def call_upstream(authorization: Authorization = "") -> dict[str, int]:
    await _authenticate(authorization)
    return {"upstream": await upstream.acall()}


@api.get("/articles")
async def article_list(page: int = 1, authorization: Authorization = "") -> dict[str, Any]:
    await _authenticate(authorization)
    queryset = Article.objects.order_by("id")
    count = await queryset.acount()
    rows = [_out(a) async for a in queryset[(page - 1) * 20 : page * 20]]
    return {"count": count, "results": rows}


@api.post("/articles", status_code=201)
async def article_create(payload: ArticleIn, authorization: Authorization = "") -> ArticleOut:
    await _authenticate(authorization)
    article = await Article.objects.acreate(
        author_id=payload.author,
        title=payload.title,
        body=payload.body,
        published=payload.published,
    )
    return _out(article)


@api.get("/articles/{pk}")
async def article_detail(pk: int, authorization: Authorization = "") -> ArticleOut:
    await _authenticate(authorization)
    return _out(await _article(pk))


@api.patch("/articles/{pk}")
async def article_update(
    pk: int, payload: ArticlePatch, authorization: Authorization = ""
) -> ArticleOut:
    await _authenticate(authorization)
    article = await _article(pk)
    for field in ("title", "body", "published"):
        value = getattr(payload, field)
        if value is not msgspec.UNSET:
            setattr(article, field, value)
    await article.asave()
    return _out(article)
