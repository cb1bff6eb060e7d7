"""`gallra import FILE.json`: load a provider's existing records into the registry.

Import is all-or-nothing: one transaction, and any problem (named by its JSON path, such as
`customers[3].people[0].email: not an e-mail address`) rolls everything back. Records are
matched by `ref`, so importing the same file twice changes nothing the second time, and an
edited file updates what changed. Records missing from a file are left alone: deleting is
the retention engine's job, not the importer's.

The file is read one item at a time (jsonstream.py) and written in batches with the
database driver's bulk insert (COPY on PostgreSQL), so a large file neither fills memory nor
takes an ORM round trip per record.
"""

from __future__ import annotations

import io
import json
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from gallra.registry import checks, crypto, tombstones
from gallra.registry.jsonstream import JSONShapeError, read_sections
from gallra.registry.models import (
    BY_RECORD_TYPE,
    Account,
    Customer,
    CustomerKey,
    CustomerRequest,
    Hold,
    Person,
    Prospect,
    Record,
)

BATCH = 500  # customers (or top-level items) read before they are written
CHUNK = 1000  # rows per query, within every database's limit on parameters
MAX_PROBLEMS = 100  # stop reading after this many: the file needs fixing first
SECTIONS = {"customers", "prospects", "quotes", "correspondence", "holds"}
SEALED = {"secret", "content"}  # plaintext in the file, sealed under the customer's key


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ImportFailed(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


@dataclass(frozen=True)
class Refusal:
    """A record the file holds that gallra deleted: it is not created again (P15)."""

    path: str
    record_type: str
    ref: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.record_type} {self.ref}: {self.reason}"


# What the counts of an ImportReport are called, for people.
STATES = {
    "created": gettext_lazy("created"),
    "updated": gettext_lazy("updated"),
    "unchanged": gettext_lazy("unchanged"),
}


@dataclass
class ImportReport:
    counts: dict[str, dict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: {"created": 0, "updated": 0, "unchanged": 0})
    )
    refused: list[Refusal] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.counts.values())

    def changed(self) -> int:
        return sum(c["created"] + c["updated"] for c in self.counts.values())


# What each record may hold: key -> check. Keys not listed here are rejected.
C = checks
SPECS: dict[str, dict[str, Callable]] = {
    "customer": {
        "ref": C.ref,
        "name": C.line(200),
        "kind": lambda v: C.choice("company", "private")("company" if v is None else v),
        "org_number": C.org_number,
    },
    "agreement": {"ref": C.ref, "start": C.day, "end": C.optional_day},
    "person": {
        "ref": C.ref,
        "first_name": C.line(100),
        "last_name": C.line(100),
        "email": C.email,
        "postal_address": C.text(1000, required=False),
        "mobile": C.phone,
        "roles": lambda v: v,  # checked in _person
    },
    "account": {
        "ref": C.ref,
        "person": C.ref,
        "username": C.line(100),
        "home": C.line(400, required=False),
        "uid": C.uid,
        "opened": C.day,
        "closed": C.optional_day,
    },
    "request": {
        "ref": C.ref,
        "kind": C.choice(*CustomerRequest.Kind.values),
        "created": C.day,
        "text": C.text(C.LONG_TEXT, required=False),
    },
    "document": {
        "ref": C.ref,
        "title": C.line(200),
        "created": C.day,
        "content": C.text(C.LONG_TEXT),
    },
    "credential": {
        "ref": C.ref,
        "system": C.line(200),
        "username": C.line(200, required=False),
        "secret": C.text(C.LONG_TEXT),
        "created": C.day,
        "account": C.references,
    },
    "invoice": {
        "ref": C.ref,
        "number": C.line(50),
        "issued": C.day,
        "fiscal_year_end": C.day,
        "amount": C.amount,
        "currency": C.currency,
        "billing_contact": C.references,
        "buyer_name": C.line(200, required=False),
        "buyer_address": C.text(1000, required=False),
    },
    "prospect": {
        "ref": C.ref,
        "name": C.line(200),
        "email": C.email,
        "created": C.day,
        "last_activity": C.optional_day,
    },
    "quote": {
        "ref": C.ref,
        "prospect": C.references,
        "customer": C.references,
        "created": C.day,
        "last_activity": C.optional_day,
        "description": C.text(C.LONG_TEXT, required=False),
    },
    "correspondence": {
        "ref": C.ref,
        "received": C.day,
        "last_activity": C.optional_day,
        "customer": C.references,
        "prospect": C.references,
        "sender": C.email,
        "subject": C.line(300, required=False),
    },
    "hold": {
        "ref": C.ref,
        "target": C.line(200),
        "reason": C.choice(*Hold.Reason.values),
        "until": C.optional_day,
        "note": C.text(C.LONG_TEXT, required=False),
    },
}
REQUIRED = {
    "ref",
    "name",
    "first_name",
    "last_name",
    "start",
    "person",
    "username",
    "opened",
    "kind",
    "created",
    "title",
    "content",
    "system",
    "secret",
    "number",
    "issued",
    "fiscal_year_end",
    "amount",
    "received",
    "target",
    "reason",
}
OPTIONAL_FOR = {("customer", "kind"), ("request", "text"), ("credential", "username")}
CHILDREN = {
    "agreements": "agreement",
    "people": "person",
    "accounts": "account",
    "requests": "request",
    "documents": "document",
    "credentials": "credential",
    "invoices": "invoice",
}


_MISSING = object()
# Per record type: the keys it may have (children included), and (key, check, required).
_SPEC_PLAN = {
    kind: (
        frozenset(spec) | (frozenset(CHILDREN) if kind == "customer" else frozenset()),
        [
            (key, check, key in REQUIRED and (kind, key) not in OPTIONAL_FOR)
            for key, check in spec.items()
        ],
    )
    for kind, spec in SPECS.items()
}


@dataclass
class Row:
    """One record on its way to the database: its values, and the refs its keys point at."""

    ref: str
    path: str
    values: dict[str, object]
    links: dict[str, tuple[type[Record], str | None]] = field(default_factory=dict)
    customer_ref: str | None = None  # whose key seals its SEALED values


def import_file(
    path: str | Path, progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    """`progress(bytes read, file size)` now and then, for the command's bar on a terminal."""
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            tick = (lambda: progress(f.tell(), size)) if progress else None
            return import_stream(f, source=str(path), tick=tick)
    except OSError as exc:
        raise ImportFailed([Problem("", f"cannot read {path}: {exc.strerror}")]) from exc


def import_document(data: dict, source: str = "") -> ImportReport:
    """Import records given as a Python dict in the file format (dates as ISO strings)."""
    return import_stream(io.BytesIO(json.dumps(data, default=str).encode()), source=source)


def import_stream(
    fileobj: BinaryIO, source: str = "", tick: Callable[[], None] | None = None
) -> ImportReport:
    """Import all or nothing; a record gallra deleted is refused (report.refused), not created.

    `source` names where the records come from, for the refusals ("delete it there");
    `tick()` is called every TICK items read, and once at the end.
    """
    importer = _Importer(source or gettext("the import file"), tick)
    try:
        with transaction.atomic():
            importer.run(fileobj)
            if importer.problems:
                raise ImportFailed(importer.problems)
    finally:
        importer.close()
    return importer.report


TICK = 500  # items read between two calls of the progress callback


class _Importer:
    def __init__(self, source: str, tick: Callable[[], None] | None = None) -> None:
        self.source = source
        self.tick = tick
        self.refused: dict[str, set[str]] = defaultdict(set)  # record type -> refs not written
        self.problems: list[Problem] = []
        self.report = ImportReport()
        self.stamp = timezone.now()
        self.writer = _Writer(self.stamp)
        self.pending: dict[str, list[Row]] = defaultdict(list)
        self.ciphers: dict[str, crypto.CustomerCipher] = {}
        self.unresolved: list[tuple[type[Record], Row, str, type[Record], str]] = []
        self.holds: list[Row] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))
        if len(self.problems) >= MAX_PROBLEMS:
            raise _TooMany

    def close(self) -> None:
        self.writer.close()

    # -- reading -----------------------------------------------------------------------

    def run(self, fileobj: BinaryIO) -> None:
        self.writer.open()
        try:
            for n, (section, index, item, refused) in enumerate(
                read_sections(fileobj, SECTIONS), 1
            ):
                if self.tick is not None and n % TICK == 0:
                    self.tick()
                path = f"{section}[{index}]"
                if refused:  # NaN, a NUL, a key twice, too deep ...: the item is not read
                    for where, message in refused:
                        self.problem(where, message)
                    continue
                if section == "customers":
                    self._customer(path, item)
                else:
                    self._top_level(section, path, item)
                if len(self.pending["customer"]) >= BATCH or self._queued() >= 4 * BATCH:
                    self.flush()
            if not self.problems:
                self.flush()
                self._resolve_late_links()
                self._holds()
            if self.tick is not None:
                self.tick()
        except JSONShapeError as exc:
            self.problems.append(Problem(exc.path, exc.message))
        except _TooMany:
            self.problems.append(Problem("", f"stopped after {MAX_PROBLEMS} problems"))

    def _queued(self) -> int:
        return sum(len(rows) for rows in self.pending.values())

    def _clean(self, kind: str, path: str, item: object) -> dict | None:
        if not isinstance(item, dict):
            self.problem(path, f"must be an object, not {checks._type_name(item)}")
            return None
        allowed, spec = _SPEC_PLAN[kind]
        ok = allowed.issuperset(item)
        if not ok:
            for key in sorted(item.keys() - allowed):
                self.problem(f"{path}.{key}", "unknown key")
        out: dict[str, object] = {}
        for key, check, required in spec:
            value = item.get(key, _MISSING)
            if value is _MISSING:
                if required:
                    self.problem(f"{path}.{key}", "required key is missing")
                    ok = False
                    continue
                value = None
            try:
                out[key] = check(value)
            except ValueError as exc:
                self.problem(f"{path}.{key}", str(exc))
                ok = False
        return out if ok else None

    def _customer(self, path: str, item: object) -> None:
        values = self._clean("customer", path, item)
        children: dict[str, list[tuple[str, dict | None]]] = {}
        for key, kind in CHILDREN.items():
            items = item.get(key, []) if isinstance(item, dict) else []
            if not isinstance(items, list):
                self.problem(f"{path}.{key}", f"must be an array, not {checks._type_name(items)}")
                items = []
            children[key] = [
                (f"{path}.{key}[{i}]", self._clean(kind, f"{path}.{key}[{i}]", child))
                for i, child in enumerate(items)
            ]
        if values is None or any(v is None for rows in children.values() for _, v in rows):
            return
        ref = values.pop("ref")
        self.pending["customer"].append(Row(ref, path, values))
        people = {v["ref"]: v for _, v in children["people"]}
        accounts = {v["ref"] for _, v in children["accounts"]}
        for row_path, v in children["agreements"]:
            if v["end"] and v["end"] < v["start"]:
                self.problem(f"{row_path}.end", "ends before it starts")
            self._child("agreement", row_path, v, ref)
        for row_path, v in children["people"]:
            roles = v.pop("roles")
            if roles is None:
                roles = []
            if not isinstance(roles, list) or any(
                not isinstance(r, str) or r not in Person.ROLES for r in roles
            ):
                self.problem(f"{row_path}.roles", f"must be a list of: {', '.join(Person.ROLES)}")
                roles = []
            for role, flag in Person.ROLES.items():
                v[flag] = role in roles
            self._child("person", row_path, v, ref)
        for row_path, v in children["accounts"]:
            if v["person"] not in people:
                self.problem(f"{row_path}.person", f"no person {v['person']!r} in this customer")
            if v["closed"] and v["closed"] < v["opened"]:
                self.problem(f"{row_path}.closed", "closes before it opens")
            self._child("account", row_path, v, ref, person=(Person, v.pop("person")))
        for row_path, v in children["requests"]:
            self._child("request", row_path, v, ref)
        for row_path, v in children["documents"]:
            self._child("document", row_path, v, ref)
        for row_path, v in children["credentials"]:
            account = v.pop("account")
            if account is not None and account not in accounts:
                self.problem(f"{row_path}.account", f"no account {account!r} in this customer")
            self._child("credential", row_path, v, ref, account=(Account, account))
        for row_path, v in children["invoices"]:
            contact = v.pop("billing_contact")
            if contact is not None and contact not in people:
                self.problem(
                    f"{row_path}.billing_contact", f"no person {contact!r} in this customer"
                )
            v["buyer_name"] = v["buyer_name"] or values["name"]
            v["customer_ref"] = ref
            self._child("invoice", row_path, v, ref, billing_contact=(Person, contact))

    def _child(self, kind: str, path: str, values: dict, customer_ref: str, **links) -> None:
        if kind != "account":  # an account belongs to its person
            links.setdefault("customer", (Customer, customer_ref))
        row = Row(values.pop("ref"), path, values, links, customer_ref)
        self.pending[kind].append(row)

    def _top_level(self, section: str, path: str, item: object) -> None:
        kind = {
            "prospects": "prospect",
            "quotes": "quote",
            "correspondence": "correspondence",
            "holds": "hold",
        }[section]
        values = self._clean(kind, path, item)
        if values is None:
            return
        ref = values.pop("ref")
        links = {}
        for key, model in (("customer", Customer), ("prospect", Prospect)):
            if key in values:
                links[key] = (model, values.pop(key))
        if kind == "hold":
            target = values.pop("target")
            kind_name, _, target_ref = target.rpartition(":")
            if kind_name and kind_name not in BY_RECORD_TYPE:
                known = ", ".join(sorted(BY_RECORD_TYPE))
                self.problem(f"{path}.target", f"{kind_name!r} is not a record type ({known})")
                return
            values["target_type"], values["target_ref"] = kind_name, target_ref
            self.holds.append(Row(ref, path, values))  # written last: it may name anything
            return
        self.pending[kind].append(Row(ref, path, values, links))

    # -- writing -----------------------------------------------------------------------

    def flush(self) -> None:
        if self.problems:
            return
        order = [
            "customer",
            "prospect",
            "agreement",
            "person",
            "account",
            "request",
            "document",
            "credential",
            "invoice",
            "quote",
            "correspondence",
        ]
        for kind in order:
            rows = self.pending.pop(kind, [])
            if rows:
                self._write(BY_RECORD_TYPE[kind], rows)
        self.ciphers.clear()

    def _write(self, model: type[Record], rows: list[Row]) -> None:
        for start in range(0, len(rows), CHUNK):
            self._write_chunk(model, rows[start : start + CHUNK])

    def _write_chunk(self, model: type[Record], rows: list[Row]) -> None:
        kind = model.record_type
        by_ref: dict[str, Row] = {}
        for row in rows:
            if row.ref in by_ref:
                self._duplicate(kind, row)
            by_ref[row.ref] = row
        found = self.writer.existing(model, list(by_ref))
        for ref, (_, written_now) in found.items():
            if written_now:  # written earlier in this same import
                self._duplicate(kind, by_ref[ref])
        before = [ref for ref, (_, written_now) in found.items() if not written_now]
        for ref in self.writer.seen(kind, before):
            self._duplicate(kind, by_ref[ref])
        if self.problems:
            return
        gone = tombstones.buried(kind, [row.ref for row in rows if row.ref not in found])
        for row in rows:
            if row.ref in gone:  # P15: deleted here, still in the source
                self._refuse(kind, row, gone[row.ref].reason(self.source))
        rows = self._resolve_links(model, [row for row in rows if row.ref not in gone])
        new = [row for row in rows if row.ref not in found]
        before = [ref for ref in before if ref not in self.refused[kind]]
        if model is Customer:
            self._customer_keys(new)
        if before:
            self._update(model, [by_ref[ref] for ref in before], {r: found[r][0] for r in before})
        counts = self.report.counts[kind]
        counts["created"] += len(new)
        if new:
            for row in new:
                for name in SEALED & row.values.keys():
                    row.values[name] = self._cipher(row).seal(row.values[name])
            self.writer.insert(
                model, ["ref", *new[0].values], [(r.ref, *r.values.values()) for r in new]
            )

    def _refuse(self, kind: str, row: Row, reason: str) -> None:
        self.refused[kind].add(row.ref)
        self.report.refused.append(Refusal(row.path, kind, row.ref, reason))

    def _duplicate(self, kind: str, row: Row) -> None:
        self.problem(row.path, f"duplicate ref {row.ref!r}: another {kind} in this file has it")

    def _update(self, model: type[Record], rows: list[Row], pks: dict[str, int]) -> None:
        """Rows that existed before this import: update what changed, remember the rest."""
        names = list(rows[0].values)
        stored = {
            pk: rest
            for pk, *rest in model.objects.filter(pk__in=pks.values()).values_list("pk", *names)
        }
        unchanged, counts = [], self.report.counts[model.record_type]
        for row in rows:
            old = dict(zip(names, stored[pks[row.ref]], strict=True))
            changed = {
                name: value
                for name, value in row.values.items()
                if not self._same(row, name, old[name], value)
            }
            if not changed:
                unchanged.append(row.ref)
                continue
            for name in SEALED & changed.keys():
                changed[name] = self._cipher(row).seal(changed[name])
            model.objects.filter(pk=pks[row.ref]).update(**changed, updated_at=self.stamp)
            counts["updated"] += 1
        counts["unchanged"] += len(unchanged)
        self.writer.remember(model.record_type, unchanged)

    def _same(self, row: Row, name: str, old: object, new: object) -> bool:
        if name in SEALED:
            return self._cipher(row).unseal(old).decode() == new
        return old == new

    def _customer_keys(self, new: list[Row]) -> None:
        keys = []
        for row in new:
            key, self.ciphers[row.ref] = crypto.new_customer_key(row.ref)
            keys.append(key)
        CustomerKey.objects.bulk_create(keys)

    def _cipher(self, row: Row) -> crypto.CustomerCipher:
        ref = row.customer_ref or row.ref
        if ref not in self.ciphers:
            self.ciphers[ref] = crypto.cipher_for(ref)
        return self.ciphers[ref]

    def _resolve_links(self, owner: type[Record], rows: list[Row]) -> list[Row]:
        """Turn the refs a row points at into primary keys, in one query per target type.

        A link to a record this import refused is emptied where it may be (an invoice kept by
        law outlives its customer); a row that cannot be without it is refused too. Returns
        the rows still to write.
        """
        wanted: dict[type[Record], set[str]] = defaultdict(set)
        for row in rows:
            for model, ref in row.links.values():
                if ref is not None:
                    wanted[model].add(ref)
        ids = {model: self.writer.ids(model, list(refs)) for model, refs in wanted.items()}
        kept = []
        for row in rows:
            for name, (model, ref) in row.links.items():
                pk = ids[model].get(ref) if ref is not None else None
                if ref is not None and pk is None and ref in self.refused[model.record_type]:
                    if not owner._meta.get_field(name).null:
                        reason = gettext("it belongs to %(type)s %(ref)s, which was deleted") % {
                            "type": model.record_type,
                            "ref": ref,
                        }
                        self._refuse(owner.record_type, row, reason)
                        break
                elif ref is not None and pk is None:
                    # Named before it was written (a later section): settle at the end.
                    self.unresolved.append((owner, row, name, model, ref))
                row.values[f"{name}_id"] = pk
            else:
                kept.append(row)
        return kept

    def _resolve_late_links(self) -> None:
        for owner, row, name, model, ref in self.unresolved:
            pk = model.objects.filter(ref=ref).values_list("pk", flat=True).first()
            if pk is None and (
                ref in self.refused[model.record_type]
                or tombstones.buried(model.record_type, [ref])
            ):
                continue  # the link stays empty, as retention left it (only optional ones wait)
            if pk is None:
                self.problem(f"{row.path}.{name}", f"no {model.record_type} with ref {ref!r}")
                continue
            owner.objects.filter(ref=row.ref).update(**{f"{name}_id": pk})

    def _holds(self) -> None:
        for row in self.holds:
            kind, ref = row.values["target_type"], row.values["target_ref"]
            types = [kind] if kind else list(BY_RECORD_TYPE)
            found = [t for t in types if BY_RECORD_TYPE[t].objects.filter(ref=ref).exists()]
            gone = [t for t in types if ref in self.refused[t] or tombstones.buried(t, [ref])]
            if not found and gone:
                reason = gettext("it names %(type)s %(ref)s, which was deleted") % {
                    "type": gone[0],
                    "ref": ref,
                }
                self._refuse("hold", row, reason)
                continue
            if len(found) != 1:
                message = (
                    f"no record {'of type ' + kind + ' ' if kind else ''}with ref {ref!r}"
                    if not found
                    else f"{ref!r} names several records ({', '.join(found)}): write TYPE:{ref}"
                )
                self.problem(f"{row.path}.target", message)
                continue
            row.values["target_type"] = found[0]
        holds = [row for row in self.holds if row.ref not in self.refused["hold"]]
        if holds and not self.problems:
            self._write(Hold, holds)


class _TooMany(Exception):
    pass


class _Writer:
    """Bulk writes with the driver's fastest path.

    A ref met twice in one file is an error. A record this import wrote has `updated_at`
    equal to the import's stamp; one it found unchanged is remembered in a temporary table.
    Neither needs memory that grows with the file.
    """

    SEEN = "gallra_import_seen"

    def __init__(self, stamp) -> None:
        self.stamp = connection.ops.adapt_datetimefield_value(stamp)
        self.postgres = connection.vendor == "postgresql"

    def open(self) -> None:
        with connection.cursor() as cursor:
            if self.postgres:
                # The tables grow during the import faster than their statistics: without
                # this the planner scans a whole table for each batch's refs instead of
                # using the ref index (measured in bench/import.py). Reset in close().
                cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"DROP TABLE IF EXISTS {self.SEEN}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.SEEN} "
                "(kind VARCHAR(30) NOT NULL, ref VARCHAR(100) NOT NULL, PRIMARY KEY (kind, ref))"
            )

    def close(self) -> None:
        if connection.connection is None:
            return
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.SEEN}")
            if self.postgres:
                cursor.execute("RESET enable_seqscan")

    def ids(self, model: type[models.Model], refs: list[str]) -> dict[str, int]:
        return {ref: pk for ref, pk, _ in self._select(model._meta.db_table, refs)}

    def existing(self, model: type[models.Model], refs: list[str]) -> dict[str, tuple[int, bool]]:
        """ref -> (primary key, whether this import wrote it) for the refs already stored."""
        return {ref: (pk, bool(now)) for ref, pk, now in self._select(model._meta.db_table, refs)}

    def _select(self, table: str, refs: list[str]) -> list[tuple]:
        if not refs:
            return []
        in_refs, params = self._in(refs)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT ref, id, updated_at = %s FROM {connection.ops.quote_name(table)} "  # noqa: S608
                f"WHERE ref {in_refs}",
                [self.stamp, *params],
            )
            return cursor.fetchall()

    def seen(self, kind: str, refs: list[str]) -> list[str]:
        """Which of these stored-before refs this import has met already (and left unchanged)."""
        if not refs:
            return []
        in_refs, params = self._in(refs)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT ref FROM {self.SEEN} WHERE kind = %s AND ref {in_refs}",  # noqa: S608
                [kind, *params],
            )
            return [ref for (ref,) in cursor.fetchall()]

    def _in(self, refs: list[str]) -> tuple[str, list]:
        """`IN (...)` for SQLite; one array parameter for PostgreSQL, which parses it faster."""
        if self.postgres:
            return "= ANY(%s)", [refs]
        return f"IN ({', '.join(['%s'] * len(refs))})", refs

    def remember(self, kind: str, refs: list[str]) -> None:
        if refs:
            self._insert_raw(self.SEEN, ["kind", "ref"], [(kind, ref) for ref in refs])

    def insert(self, model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> None:
        stamp = self.stamp
        self._insert_raw(
            model._meta.db_table,
            ["created_at", "updated_at", *columns],
            [(stamp, stamp, *row) for row in rows],
        )

    def _insert_raw(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        quote = connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(columns))
                cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608
