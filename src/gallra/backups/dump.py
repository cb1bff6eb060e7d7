"""A consistent copy of gallra's database for the backup, never a copy of a live file.

SQLite: the online backup API (a consistent snapshot while gallra runs). PostgreSQL:
`pg_dump --format=custom`. Both leave out the rows of the customers' data keys, which have
their own short-lived backup (keys.py). What the copy holds is summed up (rows per table
and a checksum of the rows) so that a restore drill can show it got back exactly that.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from django.db import DatabaseError, connection, transaction

from gallra.backups.restic import BackupError

SQLITE_NAME = "gallra.sqlite3"
PG_NAME = "gallra.pgdump"
COUNTS_NAME = "rows.json"
STAGED = "gallra-backup-staging/database"  # where runs.py puts the copy, in every snapshot
# The customers' data keys have their own short-lived backup (keys.py): crypto-shredding.
LEFT_OUT = "registry_customerkey"


def dump_database(folder: Path) -> Path:
    """Write the database copy into `folder` (made private to gallra); returns its path."""
    try:
        return _dump(folder)
    except (OSError, sqlite3.Error, BackupError) as exc:  # such as a full disk
        raise BackupError(f"the database could not be copied into {folder}: {exc}") from exc


def _dump(folder: Path) -> Path:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if connection.vendor == "sqlite":
        target = folder / SQLITE_NAME
        target.unlink(missing_ok=True)
        connection.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            # No fsync: the copy lives only until restic has read it, and a crash leaves it to
            # be removed by the next run. (Syncing it would write the whole copy to disk.)
            copy.execute("PRAGMA synchronous = OFF")
            connection.connection.backup(copy)
            # Overwritten with zeros, not VACUUMed: a VACUUM moves every later page, and
            # restic would then store most of the copy anew each day instead of what changed.
            copy.execute("PRAGMA secure_delete = ON")
            copy.execute(f'DELETE FROM "{LEFT_OUT}"')  # noqa: S608
            copy.commit()
        finally:
            copy.close()
        return target
    return _pg_dump(folder / PG_NAME)


def _pg_command(program: str, *args: str) -> tuple[list[str], dict]:
    settings = connection.settings_dict
    env = dict(os.environ)
    if settings["PASSWORD"]:
        env["PGPASSWORD"] = settings["PASSWORD"]
    where = [
        f"--host={settings['HOST'] or 'localhost'}",
        f"--port={settings['PORT'] or 5432}",
        f"--username={settings['USER']}",
    ]
    return [program, *where, *args], env


def _run(program: str, *args: str) -> None:
    command, env = _pg_command(program, *args)
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(f"{program} is not installed (Debian: postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{program} failed: {done.stderr.strip().splitlines()[-1]}")


def _pg_dump(target: Path) -> Path:
    """pg_dump of the exact snapshot in which the rows were counted (its summary)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = _pg_counts(cursor)
        _run(
            "pg_dump",
            "--format=custom",
            "--no-owner",
            f"--snapshot={snapshot}",
            f"--exclude-table-data={LEFT_OUT}",
            f"--file={target}",
            connection.settings_dict["NAME"],
        )
    (target.parent / COUNTS_NAME).write_text(json.dumps(counts))
    return target


def _pg_counts(cursor) -> dict[str, int]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    counts = {}
    for (name,) in cursor.fetchall():
        cursor.execute(f'SELECT count(*) FROM "{name}"')  # noqa: S608 (names from the catalogue)
        counts[name] = 0 if name == LEFT_OUT else cursor.fetchone()[0]
    return counts


def find_copy(folder: Path) -> Path | None:
    """The database copy inside a restored snapshot (not a file of the same name in /home)."""
    found = [*folder.rglob(f"{STAGED}/{SQLITE_NAME}"), *folder.rglob(f"{STAGED}/{PG_NAME}")]
    return found[0] if found else None


@contextmanager
def opened_copy(path: Path) -> Iterator[Any]:
    """A DB-API connection to a database copy: the SQLite file read-only, or a pg_dump
    archive restored into a scratch database that is dropped afterwards."""
    if path.name == SQLITE_NAME:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            yield db
        finally:
            db.close()
        return
    import psycopg

    with scratch_database() as name:
        _run("pg_restore", "--no-owner", f"--dbname={name}", str(path))
        settings = connection.settings_dict
        db = psycopg.connect(
            host=settings["HOST"] or "localhost",
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            password=settings["PASSWORD"] or None,
            dbname=name,
        )
        try:
            yield db
        finally:
            db.close()


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty database beside gallra's, dropped afterwards: gallra's role needs
    CREATEDB (docs/backups.md; `gallra check` says when it lacks it)."""
    name = f"gallra_restore_drill_{secrets.token_hex(4)}"
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    except DatabaseError as exc:
        raise BackupError(scratch_problem(exc)) from exc
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def scratch_problem(exc: DatabaseError) -> str:
    role = connection.settings_dict["USER"] or "gallra"
    if getattr(getattr(exc, "__cause__", None), "sqlstate", "") == "42501":  # no privilege
        return (
            f"the database role {role} may not create the restore drill's scratch database: "
            f"give it CREATEDB (ALTER ROLE {role} CREATEDB; docs/backups.md)"
        )
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"the restore drill's scratch database could not be made: {first}"


def can_create_databases() -> bool | None:
    """Whether gallra's role may make the drill's scratch database; None when the question
    does not arise (SQLite restores into a folder)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def replace_database(path: Path) -> None:
    """Make the live database the copy's (gallra should be stopped: docs/backups.md)."""
    if path.name == SQLITE_NAME:
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    connection.close()
    # Not `pg_restore --clean`: it cannot drop a login partition's primary key (the
    # partitioned table's own), so it fails once partitions exist. The tables go with their
    # schema instead, in the one transaction that restores them: all or nothing.
    try:
        script = subprocess.run(  # noqa: S603
            ["pg_restore", "--no-owner", "--file=-", str(path)],  # noqa: S607
            capture_output=True,
            check=True,
        ).stdout
    except FileNotFoundError:
        raise BackupError("pg_restore is not installed (Debian: postgresql-client)") from None
    except subprocess.CalledProcessError as exc:
        why = exc.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise BackupError(f"pg_restore failed: {' '.join(why)}") from None
    command, env = _pg_command(
        "psql",
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
        f"--dbname={connection.settings_dict['NAME']}",
        "--file=-",
    )
    done = subprocess.run(  # noqa: S603
        command,
        env=env,
        input=b"DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n" + script,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise BackupError(f"restoring the database failed: {' '.join(why)}")


def restored_pg_counts(path: Path) -> dict[str, int]:
    """Restore a pg_dump archive into a scratch database, count its rows, drop it again."""
    with scratch_database() as scratch:
        _run("pg_restore", "--no-owner", f"--dbname={scratch}", str(path))
        command, env = _pg_command(
            "psql",
            "--no-psqlrc",
            "--tuples-only",
            "--no-align",
            f"--dbname={scratch}",
            "--command",
            COUNT_SQL,
        )
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise BackupError(f"counting the restored rows failed: {done.stderr.strip()}")
        return json.loads(done.stdout.strip() or "{}")


# Rows per table of the scratch database, as one JSON object (query_to_xml counts each table).
COUNT_SQL = (
    "SELECT coalesce(json_object_agg(tablename, (xpath('/row/c/text()', query_to_xml("
    "format('SELECT count(*) AS c FROM public.%I', tablename), false, true, '')))[1]::text::int"
    "), '{}') FROM pg_tables WHERE schemaname = 'public'"
)


def summary_of_sqlite(path: Path) -> dict:
    """{"tables": {name: rows}, "checksum": hex of the file} of an SQLite database copy.

    The file's own checksum: a restore gives back the very bytes that were backed up.
    """
    tables = {}
    # immutable: read while restic reads the folder, it leaves no -wal or -shm file there
    # (the copy is whole in its file: closed, so checkpointed, and not written since).
    with closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)) as db:
        names = [
            r[0]
            for r in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "ORDER BY name"
            )
        ]
        for name in names:
            tables[name] = db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
    return {"tables": tables, "checksum": summary_of_file(path)["checksum"]}


def summary_of_file(path: Path) -> dict:
    """A dump that is not SQLite (pg_dump's archive): its size and checksum."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return {"tables": {}, "checksum": digest.hexdigest(), "bytes": path.stat().st_size}


def summary(path: Path) -> dict:
    """What a database copy holds: rows per table and a checksum."""
    if path.name == SQLITE_NAME:
        return summary_of_sqlite(path)
    found = summary_of_file(path)
    counts = path.parent / COUNTS_NAME
    if counts.exists():  # counted in the dump's own snapshot, at backup
        found["tables"] = json.loads(counts.read_text())
    return found
