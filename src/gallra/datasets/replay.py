"""A dataset restored from the provider's own backup (a `pg_dump`, a copy of a SQLite file): the
rows gallra deleted or overwrote since are deleted or overwritten again (`gallra replay`,
retention/replay.py), by retention (`delete` entries, which say how: `data.erase`) and by
data-subject erasures (`subject.erase` entries: the table's declared `erase`, or unlinked).

Everything happens in one transaction of the dataset: all of it, or, if the dataset cannot be
reached, none of it (the problem is reported and the next replay does it).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from django.db import transaction

from gallra.datasets import sources
from gallra.policy.model import Dataset, DatasetTable, Policy
from gallra.retention.replay import record_again


def replay_dataset(
    policy: Policy, dataset_id: str, entries: list, *, actor: str, now: datetime
) -> dict:
    dataset = next(d for d in policy.dataset if d.id == dataset_id)
    tables = {t.name: t for t in dataset.table}
    again: dict[int, list[str]] = {}  # entry seq -> refs changed again
    try:
        with sources.engine(dataset).begin() as conn:
            for entry in entries:
                again[entry.seq] = _reapply(conn, dataset, tables, entry)
    except sources.ERRORS as exc:
        return {"reapplied": 0, "problems": [sources.failure(dataset, exc)]}
    with transaction.atomic():
        for entry in entries:
            refs = again.get(entry.seq)
            if refs:
                record_again(entry, refs, actor=actor, now=now)
    return {"reapplied": sum(len(r) for r in again.values()), "problems": []}


def _reapply(conn, dataset: Dataset, tables: dict[str, DatasetTable], entry) -> list[str]:
    """Carry one entry out again; the refs of the rows it changed (those the copy had back)."""
    data = entry.data or {}
    unlinked = set(data.get("unlinked", []))
    by_table: dict[str, list[str]] = defaultdict(list)
    for ref in entry.refs:
        name, _, rest = ref.partition(":")
        table, _, key = rest.partition(":")
        if name == dataset.id and table in tables:
            by_table[table].append(key)
    changed = []
    # Children before parents, as the declaration lists parents first (foreign keys hold).
    for table in reversed(dataset.table):
        keys = by_table.get(table.name)
        if not keys:
            continue
        keys = _typed(conn, table, keys)
        for chunk in sources.chunks(keys):
            refs = {f"{dataset.id}:{table.name}:{k}": k for k in chunk}
            unlink = [k for r, k in refs.items() if r in unlinked]
            rest = [k for r, k in refs.items() if r not in unlinked]
            how = data.get("erase") if entry.action == "delete" else table.erase
            present = _still_there(conn, table, unlink, "unlink") + _still_there(
                conn, table, rest, how
            )
            if unlink:
                sources.run(conn, table, "unlink", keys=unlink)
            if rest and how in ("delete", "overwrite"):
                sources.run(conn, table, how, keys=rest)
            changed += [f"{dataset.id}:{table.name}:{k}" for k in present]
    return changed


def _typed(conn, table: DatasetTable, keys: list[str]) -> list:
    """The evidence holds keys as text; a whole-number key column compares with numbers."""
    columns = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns(table.name)}
    if isinstance(columns.get(table.key), sa.Integer):
        return [int(k) for k in keys if k.lstrip("-").isdigit()]
    return keys


def _still_there(conn, table: DatasetTable, keys: list[str], how: str | None) -> list[str]:
    """The keys whose rows the change would still alter: present, and not already changed."""
    if not keys or how not in ("delete", "overwrite", "unlink"):
        return []
    key = sa.column(table.key)
    query = sa.select(key).select_from(sa.table(table.name)).where(key.in_(keys))
    if how == "overwrite":
        differs = [sa.column(c).is_not(None) for c in table.set_null]
        differs += [sa.column(c) != value for c, value in table.set.items()]
        query = query.where(sa.or_(*differs)) if differs else query.where(sa.false())
    elif how == "unlink":
        query = query.where(sa.column(table.via.column).is_not(None))
    return [str(k) for (k,) in conn.execute(query)]
