"""The provider's other databases (billing, tickets, CRM), as the policy declares them.

Only what the declaration names is ever read or changed: table and column names come from
the validated policy file, values always travel as bound parameters. One SQL layer
(SQLAlchemy Core) covers PostgreSQL, MariaDB/MySQL and SQLite.

Rows are the subject's in three ways:
* own: an identity column holds one of the subject's identifiers;
* attributed: reached through `via` from a row of theirs, with no identity of its own
  (an order line of their order);
* other: reached through `via`, but its identity names someone else (another person's
  message in the subject's ticket). Exports show it with that person's data hidden;
  erasure deletes it only when the row it belongs to is deleted.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gallra.policy.model import FINDING_ATTRIBUTES, Dataset, DatasetTable
from gallra.subjects.identity import Identity

CHUNK = 500  # values per IN (...) list
OWN, ATTRIBUTED, OTHER = "own", "attributed", "other"

_engines: dict[tuple[str, str], sa.Engine] = {}


class DatasetUnavailable(Exception):
    """A dataset that cannot be reached or used; the message names it."""


def _driver_url(url: str) -> str:
    for plain, driver in (
        ("postgresql://", "postgresql+psycopg://"),
        ("postgres://", "postgresql+psycopg://"),
        ("mysql://", "mysql+pymysql://"),
        ("mariadb://", "mysql+pymysql://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def url_of(dataset: Dataset) -> str:
    if dataset.url:
        return dataset.url
    url = os.environ.get(dataset.url_env, "")
    if not url:
        raise DatasetUnavailable(
            f"dataset {dataset.id!r}: the environment variable {dataset.url_env} is not set"
        )
    return url


def engine(dataset: Dataset) -> sa.Engine:
    """One pooled engine per dataset and url, for the life of the process."""
    url = _driver_url(url_of(dataset))
    key = (dataset.id, url)
    if key not in _engines:
        args: dict[str, Any] = {}
        if url.startswith(("postgresql", "mysql")):
            args["connect_args"] = {"connect_timeout": 5}
        _engines[key] = sa.create_engine(url, pool_pre_ping=True, **args)
    return _engines[key]


def describe(dataset: Dataset) -> str:
    """The dataset as staff recognise it in an error: id, kind of database, where."""
    try:
        url = sa.engine.make_url(_driver_url(url_of(dataset)))
    except (DatasetUnavailable, sa.exc.ArgumentError):
        return f"dataset {dataset.id!r}"
    kind = {"postgresql": "PostgreSQL", "mysql": "MariaDB/MySQL", "sqlite": "SQLite"}.get(
        url.get_backend_name(), url.get_backend_name()
    )
    where = url.database if kind == "SQLite" else f"{url.host}:{url.port or ''}/{url.database}"
    return f"dataset {dataset.id!r} ({kind} {where})"


def _columns(table: DatasetTable) -> list[str]:
    names = [table.key, *(table.via.column for _ in [1] if table.via), *table.columns]
    names += [c for c in (table.since, table.dated_by) if c]
    return list(dict.fromkeys(names))


def _sql_table(table: DatasetTable) -> sa.TableClause:
    return sa.table(table.name, *(sa.column(c) for c in _columns(table)))


def _chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


@dataclass
class FoundTable:
    table: DatasetTable
    rows: dict[Any, dict[str, Any]] = field(default_factory=dict)  # key -> row
    whose: dict[Any, str] = field(default_factory=dict)  # key -> OWN / ATTRIBUTED / OTHER
    parent_of: dict[Any, Any] = field(default_factory=dict)  # key -> parent key

    def keys(self, *kinds: str) -> list:
        return [k for k, w in self.whose.items() if w in kinds]


def _column_in(t: sa.TableClause, table: DatasetTable, column: str, values: list[str]):
    """column IN (values); with `lowercase_match`, lower(column) IN (lower-case values), which
    needs an index on lower(column) to stay fast."""
    if table.lowercase_match:
        return sa.func.lower(t.c[column]).in_(sorted({v.lower() for v in values}))
    return t.c[column].in_(values)


def _matches(table: DatasetTable, row: dict, identity: Identity) -> bool | None:
    """True: the subject's row; False: someone else's; None: the row says nobody."""
    said = False
    for column, attribute in table.identity.items():
        if attribute not in FINDING_ATTRIBUTES or row.get(column) in (None, ""):
            continue
        said = True
        if str(row[column]).lower() in {v.lower() for v in identity.values(attribute)}:
            return True
    return False if said else None


def find(conn: sa.Connection, dataset: Dataset, identity: Identity) -> list[FoundTable]:
    """Every row of the subject's in `dataset`, table by table in declaration order."""
    found: dict[str, FoundTable] = {}
    for table in dataset.table:
        t = _sql_table(table)
        result = FoundTable(table)
        conditions = [
            _column_in(t, table, column, identity.values(attribute))
            for column, attribute in table.identity.items()
            if attribute in FINDING_ATTRIBUTES and identity.values(attribute)
        ]
        if conditions:
            for row in conn.execute(sa.select(t).where(sa.or_(*conditions))).mappings():
                result.rows[row[table.key]] = dict(row)
                result.whose[row[table.key]] = OWN
        if table.via is not None:
            parent = found[table.via.table]
            parent_keys = list(parent.rows)
            link = t.c[table.via.column]
            for chunk in _chunks(parent_keys):
                for row in conn.execute(sa.select(t).where(link.in_(chunk))).mappings():
                    key = row[table.key]
                    result.rows[key] = dict(row)
                    result.parent_of[key] = row[table.via.column]
                    if key in result.whose:
                        continue
                    mine = _matches(table, dict(row), identity)
                    if mine is None:  # no identity of its own: it is its parent's
                        mine_kind = parent.whose[row[table.via.column]]
                        result.whose[key] = OTHER if mine_kind == OTHER else ATTRIBUTED
                    else:
                        result.whose[key] = OWN if mine else OTHER
        found[table.name] = result
    return list(found.values())


@dataclass
class TableErasure:
    table: str
    deleted: list = field(default_factory=list)
    overwritten: list = field(default_factory=list)
    unlinked: list = field(default_factory=list)
    kept: list = field(default_factory=list)  # (key, dated_by value)


def erase(conn: sa.Connection, dataset: Dataset, identity: Identity) -> list[TableErasure]:
    """Apply the declaration's erasure to the subject's rows, children before parents.

    Run it inside one transaction per dataset: all of it happens, or none of it.
    """
    found = find(conn, dataset, identity)
    by_name = {f.table.name: f for f in found}
    deleted: dict[str, set] = {}
    # Decide top-down (a child goes with a deleted parent), apply bottom-up (FKs hold).
    plans = []
    for f in found:
        table = f.table
        mine = set(f.keys(OWN, ATTRIBUTED))
        parent_going = set()
        if table.via is not None:
            gone = deleted.get(table.via.table, set())
            parent_going = {k for k, p in f.parent_of.items() if p in gone}
        out = TableErasure(table.name)
        if table.erase == "delete":
            out.deleted = sorted(mine | parent_going, key=str)
            deleted[table.name] = set(out.deleted)
        elif table.erase == "overwrite":
            out.overwritten = sorted(mine, key=str)
            out.unlinked = sorted(parent_going - mine, key=str)
        else:
            out.kept = [(k, f.rows[k].get(table.dated_by)) for k in sorted(mine, key=str)]
        plans.append(out)
    for out in reversed(plans):
        table = by_name[out.table].table
        t = _sql_table(table)
        key = t.c[table.key]
        for chunk in _chunks(out.deleted):
            conn.execute(sa.delete(t).where(key.in_(chunk)))
        values = {c: None for c in table.set_null} | dict(table.set)
        for chunk in _chunks(out.overwritten):
            conn.execute(sa.update(t).where(key.in_(chunk)).values(**values))
        if out.unlinked:
            for chunk in _chunks(out.unlinked):
                conn.execute(sa.update(t).where(key.in_(chunk)).values({table.via.column: None}))
    return plans


def rectify(
    conn: sa.Connection, dataset: Dataset, identity: Identity, attribute: str, value: str
) -> dict[str, int]:
    """Set every identity column holding `attribute` on the subject's own rows to `value`."""
    counts = {}
    for f in find(conn, dataset, identity):
        columns = [c for c, a in f.table.identity.items() if a == attribute]
        own = f.keys(OWN)
        if not columns or not own:
            continue
        t = _sql_table(f.table)
        for chunk in _chunks(own):
            conn.execute(
                sa.update(t).where(t.c[f.table.key].in_(chunk)).values({c: value for c in columns})
            )
        counts[f.table.name] = len(own)
    return counts


def plain(value: Any) -> Any:
    """A value as JSON can hold it."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


def check_against_database(dataset: Dataset) -> list[tuple[tuple, str]]:
    """(key path within the dataset, message) for each declared table or column the database
    does not have; a dataset that cannot be reached is one problem."""
    try:
        inspector = sa.inspect(engine(dataset))
        existing = set(inspector.get_table_names())
    except (DatasetUnavailable, sa.exc.SQLAlchemyError) as exc:
        key = "url_env" if dataset.url_env else "url"
        return [((key,), f"cannot reach {describe(dataset)}: {first_line(exc)}")]
    problems = []
    for j, table in enumerate(dataset.table):
        if table.name not in existing:
            problems.append(
                (
                    ("table", j, "name"),
                    f"table {table.name!r} does not exist in {describe(dataset)}",
                )
            )
            continue
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        for column in _columns(table):
            if column not in columns:
                problems.append(
                    (
                        ("table", j, _key_of(table, column)),
                        f"column {column!r} does not exist in table {table.name!r}",
                    )
                )
    return problems


def _key_of(table: DatasetTable, column: str) -> str:
    if column == table.key:
        return "key"
    if table.via is not None and column == table.via.column:
        return "via"
    if column in table.columns:
        return "columns"
    return "since" if column == table.since else "dated_by"


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return re.sub(r"\s+", " ", text.strip().splitlines()[0] if text.strip() else repr(exc))
