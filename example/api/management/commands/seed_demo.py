"""`manage.py seed_demo`: the demo's authors and quotes (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from example.api.models import Author, Quote

QUOTES = {
    "Ada Lovelace": [
        "The Analytical Engine weaves algebraic patterns just as the Jacquard loom weaves "
        "flowers and leaves.",
        "That brain of mine is something more than merely mortal; as time will show.",
    ],
    "Grace Hopper": [
        "The most dangerous phrase in the language is: we've always done it this way.",
        "A ship in port is safe, but that is not what ships are built for.",
        "It's easier to ask forgiveness than it is to get permission.",
    ],
    "Edsger Dijkstra": [
        "Simplicity is prerequisite for reliability.",
        "Testing shows the presence, not the absence of bugs.",
        "If debugging is the process of removing bugs, then programming must be the "
        "process of putting them in.",
    ],
}


class Command(BaseCommand):
    help = "Seed the demo database with authors and quotes (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = 0
        for name, texts in QUOTES.items():
            author, _ = Author.objects.get_or_create(name=name)
            for text in texts:
                _, new = Quote.objects.get_or_create(author=author, text=text)
                created += new
        self.stdout.write(f"seed_demo: {created} quotes added, {Quote.objects.count()} in all.")
