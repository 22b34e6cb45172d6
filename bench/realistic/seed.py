"""Create the realistic project's tables and data: 10 authors, 500 articles, a token user."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.realistic.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.realistic.models import Article, Author  # noqa: E402

TOKEN = "r" * 40


def seed() -> None:
    call_command("migrate", run_syncdb=True, verbosity=0)
    Article.objects.all().delete()
    Author.objects.all().delete()
    authors = Author.objects.bulk_create(Author(pk=i, name=f"Author {i}") for i in range(1, 11))
    Article.objects.bulk_create(
        Article(pk=i, author=authors[i % 10], title=f"Article {i}", body="lorem ipsum " * 20)
        for i in range(1, 501)
    )
    with django.db.connection.cursor() as cursor:
        cursor.execute("SELECT setval(pg_get_serial_sequence('realistic_article', 'id'), 1000)")
    user, _ = get_user_model().objects.get_or_create(username="bench")
    Token.objects.filter(user=user).delete()
    Token.objects.create(user=user, key=TOKEN)


if __name__ == "__main__":
    seed()
    print(f"seeded {Article.objects.count()} articles")
