"""A `sql` source: the billing system's rows, read with the policy's SELECTs and imported
exactly as `gallra import` imports a file (registry/importing.py).

Each query's column names are the import format's keys; a row of a section that belongs to
a customer (agreements, people, accounts, ...) names it in a `customer` (or `customer_ref`)
column. The rows go into a private temporary SQLite database (the spool: an unnamed file
that SQLite deletes when it is closed), and from there, customer by customer with what
belongs to it, into the importer's JSON reader as a stream. So 100,000 customers are never
Python objects all at once, and validation, all-or-nothing and the refusal of what gallra
deleted are the importer's own. A problem or refusal the importer names by a JSON path
(`customers[3].people[0].email`) is named here by the source's row: `people row 17 (ref
'P-9'), column email`.

Queries run in a read-only transaction (PostgreSQL, MariaDB/MySQL; SQLite: query_only),
after `policy check` has refused anything but a SELECT.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gallra.datasets import sources as datasets  # how gallra reaches a [[dataset]]
from gallra.policy.loading import select_only
from gallra.policy.model import Dataset, Source
from gallra.registry import checks, importing
from gallra.sync.results import Line, Outcome, SourceResult, SourceUnavailable

NESTED = tuple(importing.CHILDREN)  # agreements, people, accounts, ...: inside a customer
TOP = ("prospects", "quotes", "correspondence", "holds")
OWNER_COLUMNS = ("customer", "customer_ref")
FETCH = 2000  # rows per round trip
CUT = checks.LONG_TEXT + 1  # a longer value is refused anyway; cut, it keeps the spool small
OUT_BUFFER = 1 << 18
_PATH = re.compile(
    r"^(?P<section>[a-z_]+)\[(?P<i>\d+)\](?:\.(?P<child>[a-z_]+)\[(?P<j>\d+)\])?"
    r"(?:\.(?P<key>\w+))?$"
)
_LINE = re.compile(r"^line \d+: ")


def sync_sql(source: Source, dataset: Dataset) -> SourceResult:
    """Read the source and import its records, all or nothing; the result says what happened."""
    result = SourceResult(
        source.id, source.kind, f"source {source.id}, {datasets.describe(dataset)}"
    )
    spool = Spool()
    try:
        try:
            problems = _read(source, dataset, spool)
        except SourceUnavailable as exc:  # nothing was imported
            result.outcome, result.error = Outcome.UNAVAILABLE, str(exc)
            return result
        try:
            with transaction.atomic():
                report = importing.import_stream(spool.document(), source=result.name)
                if problems:  # the rest was checked too; now nothing of it stays
                    transaction.set_rollback(True)
        except importing.ImportFailed as exc:
            problems += [spool.line(p.path, p.message) for p in exc.problems]
        if problems:
            result.outcome = Outcome.PROBLEMS
            result.problems = problems[: importing.MAX_PROBLEMS + 1]
            return result
        result.counts = {k: dict(v) for k, v in sorted(report.counts.items())}
        result.refused = [
            Line(spool.where(r.path), f"{r.record_type} {r.ref}: {r.reason}")
            for r in report.refused
        ]
        result.outcome = Outcome.REFUSED if result.refused else Outcome.OK
        return result
    finally:
        spool.close()


# -- reading the source ---------------------------------------------------------------------


def _read(source: Source, dataset: Dataset, spool: Spool) -> list[Line]:
    """Every section's rows into the spool; the problems found on the way (values that are no
    JSON, rows that name no customer). Raises SourceUnavailable when a query cannot run."""
    for section, query in source.queries().items():
        refused = select_only(query)  # checked by `policy check`; checked again before it runs
        if refused:
            raise SourceUnavailable(f"source {source.id}: query {section}: {refused}")
    try:
        engine = datasets.engine(dataset)
    except datasets.ERRORS as exc:
        raise SourceUnavailable(f"source {source.id}: {datasets.failure(dataset, exc)}") from exc
    driver_errors = (*datasets.ERRORS, engine.dialect.loaded_dbapi.Error, OSError)
    problems: list[Line] = []
    section = ""
    try:
        with engine.connect() as conn:
            try:
                _read_only(conn)
                for section, query in source.queries().items():
                    _section(conn, section, query, spool, problems)
                    if len(problems) >= importing.MAX_PROBLEMS:
                        break
            finally:
                try:
                    conn.rollback()
                    if conn.dialect.name == "sqlite":
                        conn.exec_driver_sql("PRAGMA query_only = OFF")  # the pool reuses it
                        conn.commit()
                except driver_errors:
                    conn.invalidate()
    except driver_errors as exc:
        query = f"query {section}: " if section else ""
        raise SourceUnavailable(
            f"source {source.id}: {query}{datasets.failure(dataset, exc)}"
        ) from exc
    spool.finish()
    problems += spool.orphans()
    return problems


def _read_only(conn) -> None:
    name = conn.dialect.name
    if name == "postgresql" or name in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")  # the first statement of it
    elif name == "sqlite":
        conn.exec_driver_sql("PRAGMA query_only = ON")


def _cursor(conn):
    """A cursor that streams rows from the server where the driver has one."""
    dbapi = conn.connection.dbapi_connection
    if conn.dialect.name == "postgresql":
        cursor = dbapi.cursor(name="gallra_sync")  # a server-side cursor (DECLARE ... CURSOR)
        cursor.itersize = FETCH
        return cursor
    if conn.dialect.name in ("mysql", "mariadb"):
        import pymysql.cursors

        return dbapi.cursor(pymysql.cursors.SSCursor)
    return dbapi.cursor()


def _section(conn, section: str, query: str, spool: Spool, problems: list[Line]) -> None:
    cursor = _cursor(conn)
    try:
        cursor.execute(query)
        names = [d[0] for d in cursor.description]
        owner_at = _columns_ok(section, names, problems)
        if owner_at is False:
            return
        keys = [(i, name) for i, name in enumerate(names) if i != owner_at]
        roles_at = names.index("roles") if section == "people" and "roles" in names else None
        ref_at = names.index("ref") if "ref" in names else None
        n = 0
        while True:
            batch = cursor.fetchmany(FETCH)
            if not batch:
                break
            rows = []
            for row in batch:
                n += 1
                ref = _key(row[ref_at]) if ref_at is not None else None
                item = {}
                for i, name in keys:
                    value = row[i]
                    if value is not None and type(value) is not str:
                        value = _plain(value, name)
                        if value is _BINARY:
                            where = _where(section, n, ref, name)
                            problems.append(Line(where, _("is binary data, not text")))
                            value = None
                    elif value is not None and len(value) > CUT:
                        value = value[:CUT]
                    item[name] = value
                if roles_at is not None and isinstance(item["roles"], str):
                    item["roles"] = [r.strip() for r in item["roles"].split(",") if r.strip()]
                if section == "customers":
                    owner = ref
                elif owner_at is not None:
                    owner = _key(row[owner_at])
                else:
                    owner = None
                rows.append((section, n, owner, ref, json.dumps(item, ensure_ascii=False)))
            spool.add(rows)
            if len(problems) >= importing.MAX_PROBLEMS:
                return
    finally:
        cursor.close()


def _columns_ok(section: str, names: list[str], problems: list[Line]) -> int | None | bool:
    """The index of the column naming the customer (None: the section needs none), or False
    when the columns cannot be read as this section's keys (a problem says why)."""
    before = len(problems)
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(Line(f"{section}", _("the query returns column %(c)s twice") % {"c": name}))
    owners = [i for i, name in enumerate(names) if name in OWNER_COLUMNS]
    if section in NESTED:
        if len(owners) != 1:
            problems.append(
                Line(
                    section,
                    _(
                        "the query needs exactly one column customer (or customer_ref): "
                        "the ref of the customer each row belongs to"
                    ),
                )
            )
    elif section == "customers":
        for name in names:
            if name in NESTED:
                problems.append(
                    Line(
                        section,
                        _("column %(c)s is a section of its own: give it its own query")
                        % {"c": name},
                    )
                )
    if len(problems) > before:
        return False
    return owners[0] if section in NESTED else None


_BINARY = object()


def _plain(value: Any, name: str) -> Any:
    """A database value as the import file would hold it."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if name == "uid" else str(value)  # ids are refs: strings in the file
    if isinstance(value, dt.datetime):
        return value.isoformat()  # not a date: the check says so (cast it in the query)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | float):
        return str(value)
    if isinstance(value, list | tuple):
        return [v if v is None or type(v) is str else _plain(v, name) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return _BINARY
    if isinstance(value, dict):  # a JSON column: its text
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _key(value: Any) -> str | None:
    """A ref as the spool joins on it (a customer's id and its contracts' customer_id)."""
    if value is None:
        return None
    return (str(value) if type(value) is not str else value)[:200]


# -- the spool ------------------------------------------------------------------------------


class Spool:
    """The source's rows between the database and the importer: an unnamed SQLite file."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")
        self.db.execute("PRAGMA journal_mode = OFF")
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute(
            "CREATE TABLE row (section TEXT NOT NULL, n INTEGER NOT NULL, owner TEXT, "
            "ref TEXT, item TEXT NOT NULL, PRIMARY KEY (section, n))"
        )
        self.sections: set[str] = set()

    def add(self, rows: list[tuple]) -> None:
        self.sections.add(rows[0][0])
        self.db.executemany("INSERT INTO row VALUES (?, ?, ?, ?, ?)", rows)

    def finish(self) -> None:
        self.db.execute("CREATE INDEX row_owner ON row (owner, section, n)")

    def close(self) -> None:
        self.db.close()

    def orphans(self) -> list[Line]:
        """Rows that name no customer of the customers query."""
        nested = [s for s in NESTED if s in self.sections]
        if not nested:
            return []
        marks = ", ".join("?" * len(nested))
        rows = self.db.execute(
            f"SELECT section, n, ref, owner FROM row AS k WHERE section IN ({marks}) "  # noqa: S608
            "AND NOT EXISTS (SELECT 1 FROM row AS c WHERE c.section = 'customers' "
            "AND c.owner = k.owner) ORDER BY section, n LIMIT ?",
            [*nested, importing.MAX_PROBLEMS],
        )
        found = []
        for section, n, ref, owner in rows:
            where = _where(section, n, ref, "customer")
            if owner is None:
                found.append(Line(where, _("names no customer")))
            else:
                message = _("names customer %(ref)s, which the customers query does not return")
                found.append(Line(where, message % {"ref": checks.shown(owner)}))
        return found

    # The document the importer reads, made as it reads it.

    def document(self) -> io.BufferedReader:
        return io.BufferedReader(_Chunks(self._chunks()), buffer_size=1 << 20)

    def _chunks(self) -> Iterator[bytes]:
        out = ['{"customers":[\n']
        size = 0
        # A customer number given twice is one problem (a duplicate ref): what names it goes
        # into the first of the two only, not into both as duplicates of its own.
        rows = self.db.execute(
            "SELECT c.n, c.item, k.section, k.item FROM row AS c LEFT JOIN row AS k "
            "ON k.owner = c.owner AND k.section <> 'customers' AND c.n = (SELECT MIN(f.n) "
            "FROM row AS f WHERE f.section = 'customers' AND f.owner = c.owner) "
            "WHERE c.section = 'customers' ORDER BY c.n, k.section, k.n"
        )
        current, item, children = None, "", {}
        first = True
        for n, customer, section, child in rows:
            if n != current:
                if current is not None:
                    text = _nest(item, children)
                    out.append(text if first else ",\n" + text)
                    first = False
                    size += len(text)
                    if size > OUT_BUFFER:
                        yield "".join(out).encode()
                        out, size = [], 0
                current, item, children = n, customer, {}
            if section is not None:
                children.setdefault(section, []).append(child)
        if current is not None:
            out.append(_nest(item, children) if first else ",\n" + _nest(item, children))
        out.append("]")
        for section in TOP:
            if section not in self.sections:
                continue
            out.append(f',\n"{section}":[\n')
            items = self.db.execute("SELECT item FROM row WHERE section = ? ORDER BY n", (section,))
            for i, (text,) in enumerate(items):
                out.append(text if not i else ",\n" + text)
                size += len(text)
                if size > OUT_BUFFER:
                    yield "".join(out).encode()
                    out, size = [], 0
            out.append("]")
        out.append("}\n")
        yield "".join(out).encode()

    # Naming a place in the document by the source's row.

    def where(self, path: str) -> str:
        match = _PATH.match(path)
        if not match:
            return path
        section, i = match["section"], int(match["i"])
        key = match["key"]
        if match["child"] is None:
            found = self.db.execute(
                "SELECT ref FROM row WHERE section = ? AND n = ?", (section, i + 1)
            ).fetchone()
            return _where(section, i + 1, found[0] if found else None, key)
        child, j = match["child"], int(match["j"])
        found = self.db.execute(
            "SELECT k.n, k.ref FROM row AS c JOIN row AS k ON k.owner = c.owner "
            "WHERE c.section = 'customers' AND c.n = ? AND k.section = ? "
            "ORDER BY k.n LIMIT 1 OFFSET ?",
            (i + 1, child, j),
        ).fetchone()
        if found is None:
            return path
        return _where(child, found[0], found[1], key)

    def line(self, path: str, message: str) -> Line:
        return Line(self.where(path), _LINE.sub("", message))


def _where(section: str, n: int, ref: str | None, key: str | None) -> str:
    text = _("%(section)s row %(n)d") % {"section": section, "n": n}
    if ref is not None:
        text += f" (ref {checks.shown(ref)})"
    if key:
        text += ", " + _("column %(c)s") % {"c": key}
    return text


def _nest(item: str, children: dict[str, list[str]]) -> str:
    """The customer's JSON object with the arrays of what belongs to it added."""
    if not children:
        return item
    arrays = ",".join(f'"{s}":[{",".join(texts)}]' for s, texts in children.items())
    return f"{item[:-1]},{arrays}}}" if item != "{}" else f"{{{arrays}}}"


class _Chunks(io.RawIOBase):
    """A readable stream over an iterator of byte strings."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.left = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.left:
            try:
                self.left = next(self.chunks)
            except StopIteration:
                return 0
        n = min(len(buffer), len(self.left))
        buffer[:n] = self.left[:n]
        self.left = self.left[n:]
        return n
