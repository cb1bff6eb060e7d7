"""`gallra import FILE.json`: load a provider's existing records into the registry.

Import is all-or-nothing: one transaction, and any problem (named by its JSON path, line and
record, such as `customers[3].people[0].email: line 52: person P-9: 'anna(at)x.se' is not an
e-mail address`) rolls everything back. Records are matched by `ref`, so importing the same
file twice changes nothing the second time, and an edited file updates what changed. Records
missing from a file are left alone: deleting is the retention engine's job, not the importer's.

The file is read one item at a time (jsonstream.py) and written in batches with the
database driver's bulk insert (COPY on PostgreSQL), so a large file neither fills memory nor
takes an ORM round trip per record.

Every problem in one run (issue 19). A problem does not stop the reading: every record and
every key is checked, whatever was wrong before it. The records that are right are written
as usual, inside the transaction that the problems roll back, because that is how what only
a whole file shows is found with memory that does not grow with it: a ref met twice, a
reference to a record that is nowhere. A record that is wrong is not written but remembered
by its ref in a temporary table (gallra_import_unwritten), so that it still counts as met: a
second record with its ref is a duplicate, and a reference to it is no "unknown" problem of
its own (and what needs it, such as a person's accounts, waits with it). Nothing that reaches
the database can be refused there: the checks hold the columns' own limits (checks.py,
tests/test_import_every_problem.py). What is listed is capped (_Problems); what is counted
is not.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from gallra.policy.sentences import Sentence, said, said_n, translated
from gallra.registry import checks, crypto, tombstones
from gallra.registry.jsonstream import UNREADABLE, Item, JSONShapeError, key_path, read_sections
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
# A file with a million problems is read to its end and every problem counted; the first
# PER_KIND of each kind (the same key of the same kind of record, `customers[*].people[*].
# email`) are listed, at most MAX_PROBLEMS in all, and the rest counted per kind
# (docs/import.md, "A million problems").
PER_KIND = 20
MAX_PROBLEMS = 1000
MAX_KINDS = 1000  # kinds told apart; more (a file of made-up keys) are counted together
ALSO = 5  # other places named for a problem met in several (a bad ref used five times)
MAX_GROUPS = 10_000  # problems remembered to be named once, however often they are met
SECTIONS = {"customers", "prospects", "quotes", "correspondence", "holds"}
SEALED = {"secret", "content"}  # plaintext in the file, sealed under the customer's key


@dataclass
class Problem:
    """One thing wrong in the file: where (JSON path, line), in which record, and what.

    `message` is a Sentence (English as a str; translated() in the reader's language). A
    problem met in several places (a bad ref, a reference to a record that is not there) is
    one problem that names the other places in `also`, and counts those beyond in `more`.
    """

    path: str
    message: str
    line: int | None = None
    record: str = ""  # "person P-2002": the record's type and ref, when it has a ref
    also: list[str] = field(default_factory=list)
    more: int = 0

    def parts(self) -> list[object]:
        parts: list[object] = [self.path] if self.path else []
        if self.line is not None:
            parts.append(said("line %(n)s", n=self.line))
        if self.record:
            parts.append(self.record)
        message: object = self.message
        if self.also:
            places = ", ".join(self.also)
            if self.more:
                message = said(
                    "%(problem)s (also at %(places)s and %(n)s more places)",
                    problem=message,
                    places=places,
                    n=f"{self.more:,}",
                )
            else:
                message = said("%(problem)s (also at %(places)s)", problem=message, places=places)
        parts.append(message)
        return parts

    def __str__(self) -> str:
        return ": ".join(str(part) for part in self.parts())

    def translated(self) -> str:
        """The problem in the active language (the command's)."""
        return ": ".join(str(translated(part)) for part in self.parts())


class ImportFailed(Exception):
    """Nothing was imported. `problems` are the listed ones (at most MAX_PROBLEMS); `total`
    counts every one; `unlisted` is (kind, how many not listed) for each kind cut short."""

    def __init__(
        self,
        problems: list[Problem],
        total: int | None = None,
        unlisted: list[tuple[str, int]] | None = None,
    ) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        self.unlisted = unlisted or []
        super().__init__("\n".join([*map(str, problems), *map(str, self.unlisted_lines())]))

    def unlisted_lines(self) -> list[Sentence]:
        return [
            said_n(
                "%(kind)s: %(count)s more problem of this kind, not listed",
                "%(kind)s: %(count)s more problems of this kind, not listed",
                n,
                kind=kind,
                count=f"{n:,}",
            )
            for kind, n in self.unlisted
        ]


_INDEX = re.compile(r"\[\d+\]")
_STEPS = re.compile(r"\[\d+\]|[^.\[]+")


class _Problems:
    """Every problem counted; the first PER_KIND of each kind listed, MAX_PROBLEMS at most;
    one met again in a group (the same bad ref, the same missing record) named once."""

    def __init__(self) -> None:
        self.listed: list[Problem] = []
        self.total = 0
        self.counts: dict[str, list[int]] = {}  # kind -> [problems, listed]
        self.groups: dict[tuple, Problem] = {}
        self.fresh: list[Problem] = []  # listed while the current item was read
        self.sections: dict[str, int] = {}  # in the order the file has them

    def __bool__(self) -> bool:
        return self.total > 0

    def add(self, problem: Problem, group: tuple | None = None) -> None:
        if group is not None and group in self.groups:
            first = self.groups[group]
            if problem.path != first.path and problem.path not in first.also:
                if len(first.also) < ALSO:
                    first.also.append(problem.path)
                else:
                    first.more += 1
            return
        self.total += 1
        kind = _INDEX.sub("[*]", problem.path)
        if kind not in self.counts and len(self.counts) >= MAX_KINDS:
            kind = "*"
        counts = self.counts.setdefault(kind, [0, 0])
        counts[0] += 1
        if counts[1] < PER_KIND and len(self.listed) < MAX_PROBLEMS:
            counts[1] += 1
            self.listed.append(problem)
            self.fresh.append(problem)
            if group is not None and len(self.groups) < MAX_GROUPS:
                self.groups[group] = problem

    def failed(self) -> ImportFailed:
        """The problems in the order of the file (some are found only after it is read)."""
        unlisted = [(kind, n - shown) for kind, (n, shown) in self.counts.items() if n > shown]
        return ImportFailed(sorted(self.listed, key=self._place), self.total, unlisted)

    def _place(self, problem: Problem) -> tuple[int, int]:
        """(section, item): within an item, the order they were found in stays."""
        steps = [m[0] for m in _STEPS.finditer(problem.path)]
        if not steps:
            return (-1, 0)
        section = self.sections.get(steps[0], len(self.sections))
        item = int(steps[1][1:-1]) if len(steps) > 1 and steps[1][0] == "[" else -1
        return (section, item)


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
def _longest(record_type: str, name: str) -> int:
    """The column's length: what the check lets through, the database stores."""
    return BY_RECORD_TYPE[record_type]._meta.get_field(name).max_length


C = checks
SPECS: dict[str, dict[str, Callable]] = {
    "customer": {
        "ref": C.ref,
        "name": C.line(_longest("customer", "name")),
        "kind": lambda v: C.choice("company", "private")("company" if v is None else v),
        "org_number": C.org_number,
    },
    "agreement": {"ref": C.ref, "start": C.day, "end": C.optional_day},
    "person": {
        "ref": C.ref,
        "first_name": C.line(_longest("person", "first_name")),
        "last_name": C.line(_longest("person", "last_name")),
        "email": C.email,
        "postal_address": C.text(1000, required=False),
        "mobile": C.phone,
        "roles": C.roles(*Person.ROLES),
    },
    "account": {
        "ref": C.ref,
        "person": C.ref,
        "username": C.line(_longest("account", "username")),
        "home": C.line(_longest("account", "home"), required=False),
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
        "title": C.line(_longest("document", "title")),
        "created": C.day,
        "content": C.text(C.LONG_TEXT),
    },
    "credential": {
        "ref": C.ref,
        "system": C.line(_longest("credential", "system")),
        "username": C.line(_longest("credential", "username"), required=False),
        "secret": C.text(C.LONG_TEXT),
        "created": C.day,
        "account": C.references,
    },
    "invoice": {
        "ref": C.ref,
        "number": C.line(_longest("invoice", "number")),
        "issued": C.day,
        "fiscal_year_end": C.day,
        "amount": C.amount,
        "currency": C.currency,
        "billing_contact": C.references,
        "buyer_name": C.line(_longest("invoice", "buyer_name"), required=False),
        "buyer_address": C.text(1000, required=False),
    },
    "prospect": {
        "ref": C.ref,
        "name": C.line(_longest("prospect", "name")),
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
        "subject": C.line(_longest("correspondence", "subject"), required=False),
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
    line: int | None = None  # where a top-level record begins in the file

    def record(self, kind: str) -> str:
        return f"{kind} {self.ref}"


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
        message = said("cannot read %(path)s: %(error)s", path=str(path), error=exc.strerror)
        raise ImportFailed([Problem("", message)]) from exc


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
                raise importer.problems.failed()
    finally:
        importer.close()
    return importer.report


TICK = 500  # items read between two calls of the progress callback


SECTION_KIND = {
    "customers": "customer",
    "prospects": "prospect",
    "quotes": "quote",
    "correspondence": "correspondence",
    "holds": "hold",
}
_REF_CHECKS = (C.ref, C.references)  # a bad ref is one problem, wherever it is used
_AT = re.compile(r"^(\w+)\[(\d+)\](?:\.(\w+)\[(\d+)\])?")


def _raw_ref(item: object) -> str | None:
    """The ref an item gives, if it gives a string (checked or not)."""
    ref = item.get("ref") if isinstance(item, dict) else None
    return ref if isinstance(ref, str) else None


# How a problem names its record: the name, or (kind, item) to make it from when needed
# (most records have no problem: their name is never made).
RecordName = str | tuple[str, object]


def _label(kind: str, item: object) -> str:
    """How a problem names its record, "person P-2002" ("" when it has no ref)."""
    ref = _raw_ref(item)
    if ref is None or not ref:
        return ""
    try:
        return f"{kind} {C.ref(ref)}"
    except ValueError:
        return f"{kind} {C.shown(ref)}"


def _valid_ref(ref: object) -> str | None:
    try:
        return C.ref(ref)
    except ValueError:
        return None


@dataclass
class _Child:
    """A record inside a customer, checked: its values (those that passed) and whether all did."""

    path: str
    values: dict
    ok: bool
    record: RecordName
    ref: str | None  # as written, if a string (what the customer's other records name it by)


class _Importer:
    def __init__(self, source: str, tick: Callable[[], None] | None = None) -> None:
        self.source = source
        self.tick = tick
        self.refused: dict[str, set[str]] = defaultdict(set)  # record type -> refs not written
        self.problems = _Problems()
        self.report = ImportReport()
        self.stamp = timezone.now()
        self.writer = _Writer(self.stamp)
        self.pending: dict[str, list[Row]] = defaultdict(list)
        self.ciphers: dict[str, crypto.CustomerCipher] = {}
        self.unresolved: list[tuple[type[Record], Row, str, type[Record], str]] = []
        self.holds: list[Row] = []
        # Records met but not written (they have problems, or need one that has): their
        # refs wait in the writer's table of them, these until the next flush.
        self.unwritten: list[tuple[str, str, str, int | None]] = []  # kind, ref, path, line
        self.unwritten_kinds: set[str] = set()  # kinds that have refs in that table
        self.flagged: set[str] = set()  # paths of the item being read that JSON refused

    def problem(
        self,
        path: str,
        message: str,
        record: RecordName = "",
        *,
        line: int | None = None,
        group: tuple | None = None,
        value: bool = False,
    ) -> None:
        """Note a problem. `value`: the value at `path` is at fault; not noted again when the
        reading of the JSON refused it, or something in it, already. `group`: the same problem
        met in other places is named once, with those places."""
        if value and self.flagged and self._refused_at(path):
            return
        if isinstance(record, tuple):
            record = _label(*record)
        self.problems.add(Problem(path, message, line, record), group)

    def _refused_at(self, path: str) -> bool:
        return any(
            f == path or f.startswith(path + ".") or f.startswith(path + "[") for f in self.flagged
        )

    def close(self) -> None:
        self.writer.close()

    # -- reading -----------------------------------------------------------------------

    def run(self, fileobj: BinaryIO) -> None:
        self.writer.open()
        try:
            for n, item in enumerate(read_sections(fileobj, SECTIONS), 1):
                if self.tick is not None and n % TICK == 0:
                    self.tick()
                self._item(item)
                if (
                    len(self.pending["customer"]) >= BATCH
                    or self._queued() >= 4 * BATCH
                    or len(self.unwritten) >= 4 * BATCH
                ):
                    self.flush()
            self.flush()
            self._resolve_late_links()
            self._holds()
            if self.tick is not None:
                self.tick()
        except JSONShapeError as exc:
            # The rest of the file cannot be read: what it would name is not looked for
            # (a reference to a record further on is no problem of its own).
            self.problems.add(Problem(exc.path, exc.message, exc.line))

    def _queued(self) -> int:
        return sum(len(rows) for rows in self.pending.values())

    def _item(self, item: Item) -> None:
        self.problems.sections.setdefault(item.section, len(self.problems.sections))
        self.flagged = {path for path, _, _ in item.problems}
        self.problems.fresh.clear()
        for path, line, message in item.problems:
            self.problem(path, message, self._record_at(item, path), line=line)
        if item.index is None:  # a problem of the file's outline, not an item
            return
        kind = SECTION_KIND[item.section]
        if item.value is UNREADABLE:
            for chain, ref in item.refs:  # it counts as met: see the module's docstring
                found = kind if not chain else CHILDREN.get(chain[0])
                if found and (not chain or kind == "customer") and _valid_ref(ref):
                    self._not_written(found, ref, item.path, item.line)
            return
        if item.section == "customers":
            self._customer(item.path, item.value, item.line)
        else:
            self._top_level(kind, item.path, item.value, item.line)
        missing = [p for p in self.problems.fresh if p.line is None]
        if missing:  # the lines of what is listed, while the item's text is at hand
            lines = item.lines(p.path for p in missing)
            for problem in missing:
                problem.line = lines[problem.path]
        self.flagged = set()

    def _record_at(self, item: Item, path: str) -> str:
        """The record a path of the item lies in, as a problem names it (an item that cannot
        be read: by the ref found in its text)."""
        match = _AT.match(path)
        if item.index is None or match is None:
            return ""
        if item.value is UNREADABLE:
            own = [ref for chain, ref in item.refs if not chain]
            return _label(SECTION_KIND[item.section], {"ref": own[0]}) if own else ""
        kind = SECTION_KIND[item.section]
        record: object = item.value
        if match[3] is not None and isinstance(record, dict) and match[3] in CHILDREN:
            children = record.get(match[3])
            index = int(match[4])
            if not isinstance(children, list) or index >= len(children):
                return ""
            kind, record = CHILDREN[match[3]], children[index]
        return _label(kind, record)

    def _not_written(self, kind: str, ref: str | None, path: str, line: int | None) -> None:
        if ref is not None:
            self.unwritten.append((kind, ref, path, line))

    def _clean(self, kind: str, path: str, item: object, record: RecordName) -> tuple[dict, bool]:
        """The values of the keys that passed their checks, and whether all did; every key's
        problem is noted, whatever the others'."""
        if not isinstance(item, dict):
            self.problem(path, C.not_a(C.MUST_BE_OBJECT, item).args[0], record, value=True)
            return {}, False
        allowed, spec = _SPEC_PLAN[kind]
        ok = allowed.issuperset(item) and path not in self.flagged
        if not allowed.issuperset(item):
            for key in sorted(item.keys() - allowed):
                self.problem(key_path(path, key), said("unknown key"), record, value=True)
        out: dict[str, object] = {}
        for key, check, required in spec:
            if self.flagged and self._refused_at(f"{path}.{key}"):
                ok = False  # what the JSON reader refused is never written, whatever passes
            value = item.get(key, _MISSING)
            if value is _MISSING:
                if required:
                    self.problem(f"{path}.{key}", said("required key is missing"), record)
                    ok = False
                    continue
                value = None
            if kind == "customer" and key == "org_number" and item.get("kind") == "private":
                check = C.personnummer  # a private person's number is the personnummer
            try:
                out[key] = check(value)
            except ValueError as exc:
                group = None
                if check in _REF_CHECKS and isinstance(value, str) and len(value) <= 1000:
                    group = ("ref", value)
                self.problem(f"{path}.{key}", exc.args[0], record, group=group, value=True)
                ok = False
                if key == "ref" and isinstance(value, str) and _valid_ref(value.strip()):
                    # ' C-1 ' meant C-1: what names C-1 is not named unknown for it (the
                    # record is not written; its ref counts as met, as a wrong one's would)
                    out["ref"] = value.strip()
        return out, ok

    def _customer(self, path: str, item: object, line: int) -> None:
        record = ("customer", item)
        values, ok = self._clean("customer", path, item, record)
        ref = values.get("ref")
        raw = item if isinstance(item, dict) else {}
        children: dict[str, list[_Child]] = {}
        for key, kind in CHILDREN.items():
            items = raw.get(key, [])
            if not isinstance(items, list):
                message = C.not_a(C.MUST_BE_ARRAY, items).args[0]
                self.problem(f"{path}.{key}", message, record, value=True)
                items = []
            children[key] = []
            met: set[str] = set()
            for i, child in enumerate(items):
                where = f"{path}.{key}[{i}]"
                label = (kind, child)
                checked, child_ok = self._clean(kind, where, child, label)
                child_ref = _raw_ref(child)
                if "ref" in checked and checked["ref"] in met:  # named here, with its line
                    self._duplicate(kind, where, checked["ref"], label)
                    checked.pop("ref")  # met already: neither written nor remembered again
                    child_ok = False
                met.update(r for r in (checked.get("ref"),) if r is not None)
                children[key].append(_Child(where, checked, child_ok, label, child_ref))
        people = {r for c in children["people"] for r in (c.ref, c.values.get("ref")) if r}
        accounts = {r for c in children["accounts"] for r in (c.ref, c.values.get("ref")) if r}

        def missing(child: _Child, key: str, message: str, known: set[str]) -> None:
            named = child.values.get(key)
            if named is not None and named not in known:  # once per customer and ref
                self.problem(
                    f"{child.path}.{key}",
                    said(message, ref=C.shown(named)),
                    child.record,
                    group=(path, message, named),
                )
                child.ok = False

        def before(child: _Child, first: str, then: str, message: str) -> None:
            start, end = child.values.get(first), child.values.get(then)
            if start is not None and end is not None and end < start:
                self.problem(
                    f"{child.path}.{then}",
                    said(message, first=start.isoformat(), then=end.isoformat()),
                    child.record,
                )
                child.ok = False

        for child in children["agreements"]:
            before(child, "start", "end", "ends before it starts: %(then)s is before %(first)s")
        for child in children["accounts"]:
            missing(child, "person", "no person %(ref)s in this customer", people)
            before(
                child, "opened", "closed", "closes before it opens: %(then)s is before %(first)s"
            )
        for child in children["credentials"]:
            missing(child, "account", "no account %(ref)s in this customer", accounts)
        for child in children["invoices"]:
            missing(child, "billing_contact", "no person %(ref)s in this customer", people)

        if not ok:
            self._not_written("customer", ref, path, line)
        else:
            self.pending["customer"].append(Row(values.pop("ref"), path, values, line=line))
        # What is written needs its customer written, and what it names in it.
        written = {"person": set(), "account": set()}
        for key in ("agreements", "people", "accounts", "requests", "documents"):
            for child in children[key]:
                kind = CHILDREN[key]
                v = child.values
                needs = {"account": ("person", "person")}.get(kind)
                if not (ok and child.ok) or (needs and v[needs[0]] not in written[needs[1]]):
                    self._not_written(kind, v.get("ref"), child.path, None)
                    continue
                if kind == "person":
                    for role, flag in Person.ROLES.items():
                        v[flag] = role in v["roles"]
                    del v["roles"]
                if kind in written:
                    written[kind].add(v["ref"])
                if kind == "account":
                    self._child(kind, child.path, v, ref, person=(Person, v.pop("person")))
                else:
                    self._child(kind, child.path, v, ref)
        for child in children["credentials"]:
            v = child.values
            account = v.get("account")
            if not (ok and child.ok) or (account is not None and account not in written["account"]):
                self._not_written("credential", v.get("ref"), child.path, None)
                continue
            v.pop("account")
            self._child("credential", child.path, v, ref, account=(Account, account))
        for child in children["invoices"]:
            v = child.values
            contact = v.get("billing_contact")
            if not (ok and child.ok) or (contact is not None and contact not in written["person"]):
                self._not_written("invoice", v.get("ref"), child.path, None)
                continue
            v.pop("billing_contact")
            v["buyer_name"] = v["buyer_name"] or values["name"]
            v["customer_ref"] = ref
            self._child("invoice", child.path, v, ref, billing_contact=(Person, contact))

    def _child(self, kind: str, path: str, values: dict, customer_ref: str, **links) -> None:
        if kind != "account":  # an account belongs to its person
            links.setdefault("customer", (Customer, customer_ref))
        row = Row(values.pop("ref"), path, values, links, customer_ref)
        self.pending[kind].append(row)

    def _top_level(self, kind: str, path: str, item: object, line: int) -> None:
        record = (kind, item)
        values, ok = self._clean(kind, path, item, record)
        if kind == "hold" and "target" in values:
            target = values["target"]
            kind_name, _, target_ref = target.rpartition(":")
            if kind_name and kind_name not in BY_RECORD_TYPE:
                known = ", ".join(sorted(BY_RECORD_TYPE))
                message = said(
                    "%(kind)s is not a record type (%(known)s)",
                    kind=C.shown(kind_name),
                    known=known,
                )
                self.problem(f"{path}.target", message, record)
                ok = False
            else:
                try:
                    C.ref(target_ref)
                except ValueError as exc:
                    group = ("ref", target_ref) if len(target_ref) <= 1000 else None
                    self.problem(f"{path}.target", exc.args[0], record, group=group)
                    ok = False
                values["target_type"], values["target_ref"] = kind_name, target_ref
                values.pop("target")
        if not ok:
            self._not_written(kind, values.get("ref"), path, line)
            return
        ref = values.pop("ref")
        if kind == "hold":
            self.holds.append(Row(ref, path, values, line=line))  # last: it may name anything
            return
        links = {}
        for key, model in (("customer", Customer), ("prospect", Prospect)):
            if key in values:
                links[key] = (model, values.pop(key))
        self.pending[kind].append(Row(ref, path, values, links, line=line))

    # -- writing -----------------------------------------------------------------------

    def flush(self) -> None:
        """Write what is queued (also when problems were found: see the module's docstring);
        the refs of what was not written are remembered first (so that a later record with
        one is the duplicate named), and those of what could not be written after it."""
        self._remember_unwritten()
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
        self._remember_unwritten()

    def _remember_unwritten(self) -> None:
        """Into the writer's table, the refs of the records met but not written; a ref met
        before (written, unchanged or not written) is a duplicate, named here."""
        waiting, self.unwritten = self.unwritten, []
        by_kind: dict[str, dict[str, tuple[str, int | None]]] = defaultdict(dict)
        for kind, ref, path, line in waiting:
            if ref in by_kind[kind]:
                self._duplicate(kind, path, ref, line=line)
            else:
                by_kind[kind][ref] = (path, line)
        rows = []
        for kind, places in by_kind.items():
            refs = list(places)
            for start in range(0, len(refs), CHUNK):
                for ref in self._met(kind, refs[start : start + CHUNK]):
                    self._duplicate(kind, places[ref][0], ref, line=places[ref][1])
                    del places[ref]
            rows += [(kind, ref, path) for ref, (path, _) in places.items()]
            if places:
                self.unwritten_kinds.add(kind)
        self.writer.remember_unwritten(rows)

    def _met(self, kind: str, refs: list[str]) -> set[str]:
        """Which of these refs this import has met already: written, unchanged or not written."""
        found = self.writer.existing(BY_RECORD_TYPE[kind], refs)
        met = {ref for ref, (_, now) in found.items() if now}
        met.update(self.writer.seen(kind, [ref for ref, (_, now) in found.items() if not now]))
        if kind in self.unwritten_kinds:
            met.update(self.writer.unwritten(kind, refs))
        return met

    def _write(self, model: type[Record], rows: list[Row]) -> None:
        for start in range(0, len(rows), CHUNK):
            self._write_chunk(model, rows[start : start + CHUNK])

    def _write_chunk(self, model: type[Record], rows: list[Row]) -> None:
        kind = model.record_type
        by_ref: dict[str, Row] = {}
        for row in rows:
            if row.ref in by_ref:
                self._duplicate(kind, row.path, row.ref, line=row.line)
            else:
                by_ref[row.ref] = row
        found = self.writer.existing(model, list(by_ref))
        again = {ref for ref, (_, written_now) in found.items() if written_now}
        before = [ref for ref, (_, written_now) in found.items() if not written_now]
        again.update(self.writer.seen(kind, before))
        if kind in self.unwritten_kinds:
            again.update(self.writer.unwritten(kind, list(by_ref)))
        for row in by_ref.values():
            if row.ref in again:  # the first of its ref stays (written, or waiting)
                self._duplicate(kind, row.path, row.ref, line=row.line)
        rows = [row for row in by_ref.values() if row.ref not in again]
        found = {ref: v for ref, v in found.items() if ref not in again}
        gone = tombstones.buried(kind, [row.ref for row in rows if row.ref not in found])
        for row in rows:
            if row.ref in gone:  # P15: deleted here, still in the source
                self._refuse(kind, row, gone[row.ref].reason(self.source))
        rows = self._resolve_links(model, [row for row in rows if row.ref not in gone])
        new = [row for row in rows if row.ref not in found]
        kept = {row.ref for row in rows}
        before = [ref for ref in found if ref in kept]
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

    def _duplicate(
        self, kind: str, path: str, ref: str, record: RecordName = "", *, line: int | None = None
    ) -> None:
        message = said(
            "duplicate ref %(ref)s: another %(type)s in this file has it; a ref is one "
            "record's own",
            ref=C.shown(ref),
            type=kind,
        )
        self.problem(path, message, record or f"{kind} {ref}", line=line)

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
        law outlives its customer); a row that cannot be without it is refused too. A link to
        a record met but not written (it has a problem) keeps the row from being written,
        without a problem of its own. Returns the rows still to write.
        """
        wanted: dict[type[Record], set[str]] = defaultdict(set)
        for row in rows:
            for model, ref in row.links.values():
                if ref is not None:
                    wanted[model].add(ref)
        ids = {model: self.writer.ids(model, list(refs)) for model, refs in wanted.items()}
        waiting = {
            model: set(
                self.writer.unwritten(model.record_type, [r for r in refs if r not in ids[model]])
            )
            for model, refs in wanted.items()
            if model.record_type in self.unwritten_kinds
        }
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
                elif (
                    ref is not None
                    and pk is None
                    and (ref in waiting.get(model, ()) or not owner._meta.get_field(name).null)
                ):
                    # Its record has a problem (or is a duplicate): this one waits with it.
                    self._not_written(owner.record_type, row.ref, row.path, row.line)
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
            kind = model.record_type
            pk = model.objects.filter(ref=ref).values_list("pk", flat=True).first()
            if pk is None and (ref in self.refused[kind] or tombstones.buried(kind, [ref])):
                continue  # the link stays empty, as retention left it (only optional ones wait)
            if pk is None and kind in self.unwritten_kinds and self.writer.unwritten(kind, [ref]):
                continue  # its record has a problem, named where it is
            if pk is None:
                message = said(
                    "no %(type)s with ref %(ref)s, in this file or in gallra",
                    type=kind,
                    ref=C.shown(ref),
                )
                self.problem(
                    f"{row.path}.{name}",
                    message,
                    row.record(owner.record_type),
                    line=row.line,
                    group=("missing", kind, ref),
                )
                continue
            owner.objects.filter(ref=row.ref).update(**{f"{name}_id": pk})

    def _holds(self) -> None:
        holds = []
        for row in self.holds:
            kind, ref = row.values["target_type"], row.values["target_ref"]
            types = [kind] if kind else list(BY_RECORD_TYPE)
            found = [t for t in types if BY_RECORD_TYPE[t].objects.filter(ref=ref).exists()]
            waiting = [
                t for t in types if t in self.unwritten_kinds and self.writer.unwritten(t, [ref])
            ]
            gone = [t for t in types if ref in self.refused[t] or tombstones.buried(t, [ref])]
            if not found and not waiting and gone:
                reason = gettext("it names %(type)s %(ref)s, which was deleted") % {
                    "type": gone[0],
                    "ref": ref,
                }
                self._refuse("hold", row, reason)
                continue
            named = sorted({*found, *waiting})
            if len(named) > 1:
                message = said(
                    "%(ref)s names several records (%(types)s): write TYPE:%(ref)s, "
                    "such as %(one)s",
                    ref=C.shown(ref),
                    types=", ".join(named),
                    one=f"{named[0]}:{ref}",
                )
            elif not named:
                message = (
                    said(
                        "no %(type)s with ref %(ref)s, in this file or in gallra",
                        type=kind,
                        ref=C.shown(ref),
                    )
                    if kind
                    else said(
                        "no record with ref %(ref)s, in this file or in gallra", ref=C.shown(ref)
                    )
                )
            elif waiting:
                self._not_written("hold", row.ref, row.path, row.line)  # its record has a problem
                continue
            else:
                row.values["target_type"] = found[0]
                holds.append(row)
                continue
            group = ("missing", kind, ref) if not named else None
            self.problem(
                f"{row.path}.target", message, row.record("hold"), line=row.line, group=group
            )
            self._not_written("hold", row.ref, row.path, row.line)
        if holds:
            self._write(Hold, holds)
        self._remember_unwritten()


class _Writer:
    """Bulk writes with the driver's fastest path.

    A ref met twice in one file is an error. A record this import wrote has `updated_at`
    equal to the import's stamp; one it found unchanged is remembered in a temporary table,
    and one it did not write (it has a problem) in another, with its path. None of this needs
    memory that grows with the file.
    """

    SEEN = "gallra_import_seen"
    UNWRITTEN = "gallra_import_unwritten"

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
            cursor.execute(f"DROP TABLE IF EXISTS {self.UNWRITTEN}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.UNWRITTEN} (kind VARCHAR(30) NOT NULL, "
                "ref VARCHAR(100) NOT NULL, path TEXT NOT NULL, PRIMARY KEY (kind, ref))"
            )

    def close(self) -> None:
        if connection.connection is None:
            return
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.SEEN}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.UNWRITTEN}")
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

    def unwritten(self, kind: str, refs: list[str]) -> list[str]:
        """Which of these refs this import met in records it did not write."""
        if not refs:
            return []
        in_refs, params = self._in(refs)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT ref FROM {self.UNWRITTEN} WHERE kind = %s AND ref {in_refs}",  # noqa: S608
                [kind, *params],
            )
            return [ref for (ref,) in cursor.fetchall()]

    def remember_unwritten(self, rows: list[tuple[str, str, str]]) -> None:
        """(kind, ref, path) of records met and not written, each ref new to the table."""
        if rows:
            self._insert_raw(self.UNWRITTEN, ["kind", "ref", "path"], rows)

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
