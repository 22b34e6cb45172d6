"""Create the benchmark database: 1,000 items, one user with a token."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.project.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from bench.project.models import Item, Publisher  # noqa: E402

TOKEN = "b" * 40


def seed() -> None:
    call_command("migrate", run_syncdb=True, verbosity=0)
    Item.objects.all().delete()
    publisher, _ = Publisher.objects.update_or_create(pk=1, defaults={"name": "Bench Press"})
    Item.objects.bulk_create(
        Item(
            title=f"Item {i}",
            isbn=f"seed-{i:08d}",
            pages=100 + i,
            price=i % 90 + 0.5,
            publisher=publisher,
        )
        for i in range(1000)
    )
    user, _ = get_user_model().objects.get_or_create(username="bench")
    Token.objects.filter(user=user).delete()
    Token.objects.create(user=user, key=TOKEN)


if __name__ == "__main__":
    seed()
    print(f"seeded {Item.objects.count()} items")
