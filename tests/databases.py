"""
The database the test suite runs on: SQLite by default, PostgreSQL when
`DAF_DRF_TEST_DATABASE=postgres`.

`make test` runs the whole suite on SQLite, then every test that touches a database a second
time on the throwaway PostgreSQL server of `scripts/with-postgres.sh`, which exports
`DAF_DRF_TEST_POSTGRES_DSN`. Every settings module of the suite builds its `DATABASES` with
`database()`, and harnesses that start a server or worker process get a database of their own
from `create_database()`.
"""

from __future__ import annotations

import os
import uuid
from typing import Any
from urllib.parse import unquote, urlsplit

ENGINE_SWITCH = "DAF_DRF_TEST_DATABASE"
DSN_VARIABLE = "DAF_DRF_TEST_POSTGRES_DSN"


def on_postgres() -> bool:
    """True when this run uses PostgreSQL (`DAF_DRF_TEST_DATABASE=postgres`)."""
    value = os.environ.get(ENGINE_SWITCH, "sqlite").strip().lower()
    if value not in {"sqlite", "postgres", "postgresql"}:
        raise RuntimeError(f"{ENGINE_SWITCH}={value!r}: expected 'sqlite' or 'postgres'.")
    return value != "sqlite"


def postgres_dsn() -> str:
    dsn = os.environ.get(DSN_VARIABLE, "")
    if not dsn:
        raise RuntimeError(
            f"{ENGINE_SWITCH}=postgres needs {DSN_VARIABLE}: run the tests under "
            "scripts/with-postgres.sh (`make test` does), which starts a throwaway server."
        )
    return dsn


def postgres_settings(name: str | None = None) -> dict[str, Any]:
    """`DATABASES` entry for the throwaway server; `name` overrides the DSN's database."""
    parts = urlsplit(postgres_dsn())
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name or unquote(parts.path.lstrip("/")) or "daf_drf",
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "127.0.0.1",
        "PORT": str(parts.port or 5432),
    }


def database(
    sqlite_name: str, *, sqlite_options: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    """
    One `DATABASES` entry: SQLite file (or `:memory:`) `sqlite_name`, or on PostgreSQL the
    database named by `DAF_DRF_TEST_DB_NAME` (set by `create_database()` harnesses) or the
    DSN's. `extra` keys (`ATOMIC_REQUESTS`, `TEST`, ...) apply to both engines.
    """
    if on_postgres():
        return {**postgres_settings(os.environ.get("DAF_DRF_TEST_DB_NAME")), **extra}
    entry: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": sqlite_name}
    if sqlite_options:
        entry["OPTIONS"] = sqlite_options
    return {**entry, **extra}


class WithoutMigrations:
    """
    `MIGRATION_MODULES` that turns every app's migrations off: tables are created from the
    models in one `syncdb` step. The test apps (`tests`, the compat project) have no
    migrations, and Django creates such apps' tables before migrating the others, so on
    PostgreSQL their foreign keys to `auth_user` would point at a table that does not exist
    yet (SQLite does not check). Used on the PostgreSQL pass only.
    """

    def __contains__(self, app_label: object) -> bool:
        return True

    def __getitem__(self, app_label: str) -> None:
        return None


def _admin_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def create_database(prefix: str) -> str:
    """Create an empty PostgreSQL database for a server/worker harness; return its name."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    """Drop a database made by `create_database()`, ending the sessions still on it."""
    _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset_sequences(using: str = "default") -> None:
    """
    Point every table's id sequence past its highest id, after rows were created with
    explicit ids. PostgreSQL's sequences do not follow explicit ids and do not roll back with
    a transaction (SQLite's AUTOINCREMENT counter does both: nothing to do there).
    """
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
