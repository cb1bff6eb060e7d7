"""Finding, erasing and rectifying a data subject's rows in the provider's other databases.

How gallra reaches a dataset, and the SQL it runs there, is gallra.datasets.sources (shared
with retention); what is here is what a data-subject request needs on top of it.

Rows are the subject's in three ways:
* own: an identity column holds one of the subject's identifiers;
* attributed: reached through `via` from a row of theirs, with no identity of its own
  (an order line of their order);
* other: reached through `via`, but its identity names someone else (another person's
  message in the subject's ticket). Exports show it with that person's data hidden;
  erasure deletes it only when the row it belongs to is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gallra.datasets.sources import (  # noqa: F401 (the names the subjects app uses)
    CHUNK,
    ERRORS,
    DatasetUnavailable,
    check_against_database,
    chunks,
    describe,
    engine,
    failure,
    first_line,
    kept_until,
    plain,
    run,
    url_of,
)
from gallra.policy.model import FINDING_ATTRIBUTES, Dataset, DatasetTable
from gallra.subjects.identity import Identity

OWN, ATTRIBUTED, OTHER = "own", "attributed", "other"


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
            for row in run(conn, table, "find", **values):
                result.rows[row[table.key]] = row
                result.whose[row[table.key]] = OWN
        if table.via is not None:
            parent = found[table.via.table]
            for chunk in chunks(list(parent.rows)):
                for row in run(conn, table, "via", keys=chunk):
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
        for kind, keys in (
            ("delete", out.deleted),
            ("overwrite", out.overwritten),
            ("unlink", out.unlinked),
        ):
            for chunk in chunks(keys):
                run(conn, table, kind, keys=chunk)
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
        for chunk in chunks(own):
            run(conn, f.table, "rectify", keys=chunk, columns=tuple(columns), value=value)
        counts[f.table.name] = len(own)
    return counts
