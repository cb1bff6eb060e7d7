"""What the commands of this app need to know about the instance before they touch it."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


def pending_migrations(alias: str = DEFAULT_DB_ALIAS) -> list:
    connection = connections[alias]
    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def describe(alias: str = DEFAULT_DB_ALIAS) -> str:
    """The database as a person reads it, never with its password."""
    db = settings.DATABASES[alias]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite {db['NAME']}"
    host = db.get("HOST") or "local socket"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"PostgreSQL {db.get('NAME')} on {host}{port}"


def require_ready() -> None:
    """Refuse to go on (exit 2) unless `gallra init` has run: keys present, tables migrated."""
    if settings.GALLRA_KEYS is None:
        raise CommandError(
            f"no key file at {settings.GALLRA_KEY_FILE}: run `gallra init` first "
            "(or set GALLRA_SECRET_KEY, GALLRA_MASTER_KEY and GALLRA_PSEUDONYM_KEY)",
            returncode=2,
        )
    try:
        pending = pending_migrations()
    except Exception as exc:  # any failure to reach the database means the same here
        raise CommandError(f"cannot reach the database {describe()}: {exc}", returncode=2) from exc
    if pending:
        raise CommandError(
            f"the database {describe()} is not set up ({len(pending)} migrations pending): "
            "run `gallra init` (or `gallra django migrate`) first",
            returncode=2,
        )
