"""The provider's other databases (billing, tickets, CRM), as the policy declares them: how
gallra reaches them and the SQL it runs there.

Only what the declaration names is ever read or changed: table and column names come from
the validated policy file, values always travel as bound parameters. One SQL layer
(SQLAlchemy Core) covers PostgreSQL, MariaDB/MySQL and SQLite. Data-subject requests
(subjects/datasets.py) and retention (datasets/enforcement.py) both go through it.
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import re
import sqlite3
from collections.abc import Iterable
from typing import Any

import psycopg
import pymysql
import sqlalchemy as sa

from gallra.policy.model import Dataset, DatasetTable, Rule
from gallra.retention.planner import due_date

CHUNK = 500  # values per IN (...) list

_engines: dict[tuple[str, str], sa.Engine] = {}


class DatasetUnavailable(Exception):
    """A dataset that cannot be reached or used; the message names it."""


# What a dataset that is down, misconfigured or refusing raises: callers keep the request
# open and name the dataset (`failure`), they never crash. Statements run on the driver's own
# cursor (`run`), so the drivers' errors are here too, beside SQLAlchemy's.
ERRORS = (
    DatasetUnavailable,
    sa.exc.SQLAlchemyError,
    psycopg.Error,
    pymysql.err.Error,
    sqlite3.Error,
    OSError,
)


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
        # pre_ping: a connection the server dropped (restarted, killed) is replaced on checkout
        _engines[key] = sa.create_engine(url, pool_recycle=600, pool_pre_ping=True, **args)
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


def columns_of(table: DatasetTable) -> list[str]:
    """Every column the declaration names: the only ones gallra reads or changes."""
    names = [table.key, *(table.via.column for _ in [1] if table.via), *table.columns]
    names += [c for c in (table.since, table.dated_by) if c]
    return list(dict.fromkeys(names + dating_columns(table)))


def dating_columns(table: DatasetTable) -> list[str]:
    """The columns retention reads to date a row: its owner's ref and its own dates."""
    names = [table.owner.column] if table.owner else []
    names += [c for c in (table.dates.model_dump().values() if table.dates else ()) if c]
    return list(dict.fromkeys(names + ([table.dated_by] if table.dated_by else [])))


def _sql_table(table: DatasetTable) -> sa.TableClause:
    return sa.table(table.name, *(sa.column(c) for c in columns_of(table)))


# Statements are built and compiled once per declared table, kind and number of values, then
# run on the driver's own cursor: a request pays for the round trips and little else (about a
# third of the time SQLAlchemy's per-execution machinery would add). Values are always bound
# parameters. The table object is kept with its SQL, so its id cannot be reused.
_compiled: dict[tuple, tuple[DatasetTable, str, tuple[str, ...] | None, dict]] = {}


def run(conn: sa.Connection, table: DatasetTable, kind: str, **params: Any) -> list[dict]:
    """Run one statement of `kind` with `params` (lists become IN lists); rows for a SELECT.

    Kinds: "find" (v_<column>=[...] for each identity column used), "via" (keys=[...]),
    "delete", "overwrite", "unlink" (keys=[...]), "rectify" (keys=[...], columns, value);
    for retention: "first_page" (limit), "page" (after, limit): the key, `via` and dating
    columns in key order; "links" (keys=[...] of parent rows): the key and `via` column.
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
        # Values SQLAlchemy adds itself (SQLite's "OFFSET 0" after a LIMIT), not ours to give.
        fixed = {k: v for k, v in compiled.params.items() if v is not None}
        cached = _compiled[cache_key] = (table, compiled.string, order, fixed)
    _, sql, order, fixed = cached
    flat: dict[str, Any] = dict(fixed)
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
    if kind in ("first_page", "page"):
        read = [table.key, *(table.via.column for _ in [1] if table.via), *dating_columns(table)]
        query = sa.select(*(t.c[c] for c in dict.fromkeys(read))).order_by(t.c[table.key])
        if kind == "page":
            query = query.where(t.c[table.key] > sa.bindparam("after"))
        return query.limit(sa.bindparam("limit", type_=sa.Integer))
    if kind == "links":
        via = t.c[table.via.column]
        return sa.select(t.c[table.key], via).where(via.in_(values("keys", sizes["keys"])))
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


def chunks(values: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


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
        for column in columns_of(table):
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
    if table.owner is not None and column == table.owner.column:
        return "owner"
    if table.dates is not None and column in table.dates.model_dump().values():
        return "dates"
    return "since" if column == table.since else "dated_by"


def failure(dataset: Dataset, exc: BaseException) -> str:
    """ "dataset 'support' (MariaDB/MySQL 127.0.0.1:3399/support): (2003, "Can't connect ...")" """
    return f"{describe(dataset)}: {first_line(exc)}"


def kept_until(rule: Rule, counted: dt.date | dt.datetime | str | None) -> dt.date | None:
    """The last day a row kept by `rule` stays, counted from its `dated_by` value."""
    counted = as_date(counted)
    if counted is None:
        return None
    return due_date(rule, counted) - dt.timedelta(days=1)


def as_date(value: Any) -> dt.date | None:
    """A date column's value as a date: drivers give a date, a datetime or (SQLite) text."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            from django.utils import timezone

            return timezone.localtime(value).date()
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return re.sub(r"\s+", " ", text.strip().splitlines()[0] if text.strip() else repr(exc))
