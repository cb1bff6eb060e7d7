"""The login-event table, partitioned by month on PostgreSQL, and how it is purged.

On PostgreSQL `logins_loginevent` is a table partitioned by range of `at`, one partition per
calendar month (UTC), made when the first event of the month arrives. A month whose every
event is past retention goes with one `DROP TABLE`; only the month on the boundary is
purged row by row. On SQLite the table is a plain one and purging is a `DELETE`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from django.db import connection, transaction

TABLE = "logins_loginevent"
_PARTITION = re.compile(rf"{TABLE}_(\d{{4}})_(\d\d)$")
LOCK_KEY = 0x6A11_2B  # advisory lock while a partition is made


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def partition_table(schema_editor) -> None:
    """Migration step: turn the plain table Django made into a partitioned one (PostgreSQL)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} RENAME TO {TABLE}_plain")
    schema_editor.execute(
        f"CREATE TABLE {TABLE} (LIKE {TABLE}_plain INCLUDING DEFAULTS INCLUDING IDENTITY "
        "INCLUDING CONSTRAINTS) PARTITION BY RANGE (at)"
    )
    schema_editor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id, at)")
    schema_editor.execute(f"DROP TABLE {TABLE}_plain")


_made: set[tuple[str, date]] = set()  # (database name, month) known to exist


def ensure_months(months: set[date]) -> None:
    """Make the partitions for these months; call inside the transaction that inserts."""
    if connection.vendor != "postgresql":
        return
    name = connection.settings_dict["NAME"]
    missing = sorted(m for m in months if (name, m) not in _made)
    if not missing:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        for month in missing:
            start = datetime(month.year, month.month, 1, tzinfo=UTC)
            end = datetime.combine(next_month(month), datetime.min.time(), UTC)
            cursor.execute(
                f"CREATE TABLE IF NOT EXISTS {TABLE}_{month:%Y_%m} PARTITION OF {TABLE} "  # noqa: S608 (a date)
                "FOR VALUES FROM (%s) TO (%s)",
                [start, end],
            )
    # Known to exist once committed; a rolled-back transaction takes its partitions with it.
    transaction.on_commit(lambda: _made.update((name, m) for m in missing))


def months_stored() -> list[date]:
    """The months that have a partition (PostgreSQL) or at least one event."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
                [TABLE],
            )
            found = [_PARTITION.match(r[0]) for r in cursor.fetchall()]
            return sorted(date(int(m[1]), int(m[2]), 1) for m in found if m)
    from gallra.logins.models import LoginEvent

    return sorted(
        {date(d.year, d.month, 1) for d in LoginEvent.objects.datetimes("at", "month", tzinfo=UTC)}
    )


def purge_before(threshold: datetime) -> tuple[int, list[date]]:
    """Delete every event before `threshold`: (events deleted, months dropped whole)."""
    deleted, dropped = 0, []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for month in months_stored():
                end = datetime.combine(next_month(month), datetime.min.time(), UTC)
                if end <= threshold:
                    table = f"{TABLE}_{month:%Y_%m}"
                    cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 (a date)
                    deleted += cursor.fetchone()[0]
                    cursor.execute(f"DROP TABLE {table}")
                    _made.discard((connection.settings_dict["NAME"], month))
                    dropped.append(month)
        cursor.execute(f"DELETE FROM {TABLE} WHERE at < %s", [threshold])  # noqa: S608
        deleted += cursor.rowcount
    return deleted, dropped
