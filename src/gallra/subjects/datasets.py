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

from gallra.policy.model import FINDING_ATTRIBUTES, Dataset, DatasetTable, Rule
from gallra.retention.planner import due_date
from gallra.subjects.identity import Identity

CHUNK = 500  # values per IN (...) list
OWN, ATTRIBUTED, OTHER = "own", "attributed", "other"

_engines: dict[tuple[str, str], sa.Engine] = {}


class DatasetUnavailable(Exception):
    """A dataset that cannot be reached or used; the message names it."""


# What a dataset that is down, misconfigured or refusing raises: callers keep the request
# open and name the dataset (`failure`), they never crash.
ERRORS = (DatasetUnavailable, sa.exc.SQLAlchemyError)


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
        _engines[key] = sa.create_engine(url, pool_recycle=600, **args)
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


# Statements are built and compiled once per declared table, kind and number of values, then
# run on the driver's own cursor: a request pays for the round trips and little else (about a
# third of the time SQLAlchemy's per-execution machinery would add). Values are always bound
# parameters. The table object is kept with its SQL, so its id cannot be reused.
_compiled: dict[tuple, tuple[DatasetTable, str, tuple[str, ...] | None]] = {}


def _run(conn: sa.Connection, table: DatasetTable, kind: str, **params: Any) -> list[dict]:
    """Run one statement of `kind` with `params` (lists become IN lists); rows for a SELECT.

    Kinds: "find" (v_<column>=[...] for each identity column used), "via" (keys=[...]),
    "delete", "overwrite", "unlink" (keys=[...]), "rectify" (keys=[...], columns, value).
    """
    if kind == "overwrite":
        params |= {f"set_{c}": v for c, v in table.set.items()}
    shape = tuple(
        (name, len(v) if isinstance(v, list) else v if isinstance(v, tuple) else None)
        for name, v in params.items()
    )
    cache_key = (id(table), kind, shape, conn.dialect.name)
    cached = _compiled.get(cache_key)
    if cached is None or cached[0] is not table:
        statement = _build(table, kind, shape, params)
        compiled = statement.compile(dialect=conn.dialect)
        order = tuple(compiled.positiontup) if conn.dialect.positional else None
        cached = _compiled[cache_key] = (table, compiled.string, order)
    _, sql, order = cached
    flat: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, list):
            flat.update({f"{name}_{i}": v for i, v in enumerate(value)})
        elif not isinstance(value, tuple):
            flat[name] = value
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, tuple(flat[n] for n in order) if order is not None else flat)
        if cursor.description is None:
            return []
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        cursor.close()


def _build(table: DatasetTable, kind: str, shape: tuple, params: dict) -> sa.Executable:
    t = _sql_table(table)

    def values(name: str, n: int) -> list:
        return [sa.bindparam(f"{name}_{i}") for i in range(n)]

    sizes = dict(shape)
    if kind == "find":
        conditions = []
        for name, n in shape:
            column = t.c[name[2:]]
            column = sa.func.lower(column) if table.lowercase_match else column
            conditions.append(column.in_(values(name, n)))
        return sa.select(t).where(sa.or_(*conditions))
    if kind == "via":
        return sa.select(t).where(t.c[table.via.column].in_(values("keys", sizes["keys"])))
    where = t.c[table.key].in_(values("keys", sizes["keys"]))
    if kind == "delete":
        return sa.delete(t).where(where)
    if kind == "overwrite":
        new = {c: sa.null() for c in table.set_null} | {
            c: sa.bindparam(f"set_{c}") for c in table.set
        }
        return sa.update(t).where(where).values(new)
    if kind == "unlink":
        return sa.update(t).where(where).values({table.via.column: sa.null()})
    if kind == "rectify":
        return (
            sa.update(t)
            .where(where)
            .values(dict.fromkeys(params["columns"], sa.bindparam("value")))
        )
    raise ValueError(kind)


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
        result = FoundTable(table)
        values = {}
        for column, attribute in table.identity.items():
            given = identity.values(attribute) if attribute in FINDING_ATTRIBUTES else []
            if given:
                lower = table.lowercase_match
                values[f"v_{column}"] = sorted({v.lower() for v in given}) if lower else given
        if values:
            for row in _run(conn, table, "find", **values):
                result.rows[row[table.key]] = row
                result.whose[row[table.key]] = OWN
        if table.via is not None:
            parent = found[table.via.table]
            for chunk in _chunks(list(parent.rows)):
                for row in _run(conn, table, "via", keys=chunk):
                    key = row[table.key]
                    result.rows[key] = row
                    result.parent_of[key] = row[table.via.column]
                    if key in result.whose:
                        continue
                    mine = _matches(table, row, identity)
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
        for kind, keys in (("delete", out.deleted), ("overwrite", out.overwritten),
                           ("unlink", out.unlinked)):  # fmt: skip
            for chunk in _chunks(keys):
                _run(conn, table, kind, keys=chunk)
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
        for chunk in _chunks(own):
            _run(conn, f.table, "rectify", keys=chunk, columns=tuple(columns), value=value)
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
    except ERRORS as exc:
        key = "url_env" if dataset.url_env else "url"
        return [((key,), f"cannot reach {failure(dataset, exc)}")]
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


def failure(dataset: Dataset, exc: BaseException) -> str:
    """ "dataset 'support' (MariaDB/MySQL 127.0.0.1:3399/support): (2003, "Can't connect ...")" """
    return f"{describe(dataset)}: {first_line(exc)}"


def kept_until(rule: Rule, counted: dt.date | dt.datetime | None) -> dt.date | None:
    """The last day a row kept by `rule` stays, counted from its `dated_by` value."""
    if counted is None:
        return None
    if isinstance(counted, dt.datetime):
        counted = counted.date()
    return due_date(rule, counted) - dt.timedelta(days=1)


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return re.sub(r"\s+", " ", text.strip().splitlines()[0] if text.strip() else repr(exc))
