"""Which rows of a dataset table are due on a date, under which rule, and why the others stay.

A table declares how its rows are dated (policy-file.md, `dataset.table`): an `owner` column
holding the ref of the registry record the row belongs to (its customer, person, account or
prospect), and `dates`, the row's own trigger dates. The rules that reach a row are those of
its columns' categories (`Policy.table_rules`), and they combine exactly as the registry
planner combines several rules for one record (retention/planner.py `_explain_row`): the row
is due under the first rule, in policy order, whose time has run out and that nothing keeps
(a hold on its owner when the rule yields to holds, the owner's other role); a kept row
reports the rule that would delete it first, and a rule with a legal source keeps it "by
law". The owner's facts (when its last agreement ended, when its accounts closed, the holds
that cover it) are read from the registry as the registry's own planner reads them, with one
query per page of rows for the owners not read on an earlier page (a judge remembers up to
OWNERS_KEPT of them). An owner the registry no longer has, but remembers deleting
(registry/tombstones.py), ended on the day it was deleted: a row under the same rule is due
from that day, and its other owner rules count from it. An owner ref unknown to both is never
due: `plan --all` shows it as "owner unknown".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import BooleanField, Case, F, Value, When

from gallra.datasets.sources import as_date
from gallra.policy.model import OWNER_TRIGGERS, Dataset, DatasetTable, Policy, Rule
from gallra.registry import tombstones
from gallra.registry.models import Hold
from gallra.retention.kinds import KINDS, covering_holds
from gallra.retention.planner import Decision

DAYS = 30  # the forecast's window: the run's day and the 30 after it
CHUNK = 500  # owner refs per registry query
OWNERS_KEPT = 50_000  # owners a judge remembers between pages (rows of one owner are spread)


def record_type(dataset: Dataset | str, table: DatasetTable | str) -> str:
    """How plan, explain and the evidence log name a table: `DATASET:TABLE`."""
    return f"{getattr(dataset, 'id', dataset)}:{getattr(table, 'name', table)}"


@dataclass
class Owner:
    """What the registry says of a row's owner on the day."""

    ref: str
    triggers: dict[str, date | None] = field(default_factory=dict)  # t_agreement_ended, ...
    has_agreement: bool = False
    has_account: bool = False
    hold: Hold | None = None  # the longest-lasting active hold that covers it
    other_role: bool = False
    buried: tombstones.Buried | None = None  # deleted by gallra: gone from the registry


def owners(record: str, refs: Iterable[str], at: date) -> dict[str, Owner]:
    """The owners of `record` type among `refs`, as the registry and its deletion memory know
    them (unknown refs are left out): one query per CHUNK refs, one for their holds."""
    kind = KINDS[record]
    annotations: dict[str, Any] = {}
    for trigger in OWNER_TRIGGERS[record]:
        annotations.update(kind.triggers[trigger].annotations())
    for name, holds in covering_holds(kind, at).items():
        longest = holds.order_by(F("until").desc(nulls_first=True), "ref")
        annotations[f"hold_{name}"] = longest.values("ref")[:1]
    if kind.other_role is not None:
        annotations["other_role"] = Case(
            When(kind.other_role, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    refs = sorted({r for r in refs if r})
    found: dict[str, Owner] = {}
    held: dict[str, list[str]] = {}
    for start in range(0, len(refs), CHUNK):
        rows = kind.model.objects.filter(ref__in=refs[start : start + CHUNK])
        for row in rows.annotate(**annotations).values("ref", *annotations):
            owner = Owner(
                row["ref"],
                triggers={t: row.get(f"t_{t}") for t in OWNER_TRIGGERS[record]},
                has_agreement=bool(row.get("has_agreement")),
                has_account=bool(row.get("has_account", record == "account")),
                other_role=bool(row.get("other_role")),
            )
            held[owner.ref] = [v for k, v in row.items() if k.startswith("hold_") and v]
            found[owner.ref] = owner
    names = {r for refs_ in held.values() for r in refs_}
    holds = {h.ref: h for h in Hold.objects.filter(ref__in=names)} if names else {}
    for ref, hold_refs in held.items():
        for hold in (holds[r] for r in hold_refs if r in holds):
            found[ref].hold = _longer(found[ref].hold, hold)
    for ref, buried in tombstones.buried(record, [r for r in refs if r not in found]).items():
        found[ref] = Owner(ref, buried=buried)
    return found


def _longer(a: Hold | None, b: Hold) -> Hold:
    if a is None or a.until is None:
        return a or b
    return b if b.until is None or b.until > a.until else a


@dataclass(frozen=True)
class Verdict:
    """A row's fate by its own rules, and the first day of the forecast window it is due."""

    key: Any
    decision: Decision
    first: tuple[date, str] | None = None  # (day, rule): due within the window
    parent: Any = None  # the `via` column's value


class TableJudge:
    """Judges the rows of one table, a page at a time."""

    def __init__(self, policy: Policy, at: date, dataset: Dataset, table: DatasetTable) -> None:
        self.at, self.dataset, self.table = at, dataset, table
        self.record_type = record_type(dataset, table)
        self.rules = policy.table_rules(table)
        self.dated = [r for r in self.rules if table.can_date(r)]
        self.follows = table.via is not None and not table.own_dates
        self.parent_type = record_type(dataset, table.via.table) if table.via else ""
        self.last_day = at + timedelta(days=DAYS)
        self.columns = {rule.id: table.date_columns(rule) for rule in self.dated}
        # The owners read so far (None: unknown), at most OWNERS_KEPT: memory stays bounded.
        self.known: dict[str, Owner | None] = {}
        self.due_dates: dict[tuple[str, date], date] = {}

    def ref(self, key: Any) -> str:
        return f"{self.record_type}:{key}"

    def judge(self, rows: list[dict]) -> list[Verdict]:
        """A Verdict per row (rows as `sources.run(..., "page")` reads them)."""
        owner = self.table.owner
        found: dict[str, Owner | None] = {}
        if owner is not None and not self.follows:
            refs = {_text(r.get(owner.column)) for r in rows}
            missing = [r for r in refs if r not in self.known]
            if len(self.known) + len(missing) > OWNERS_KEPT:
                self.known = {}
                missing = list(refs)
            if missing:
                read = owners(owner.record, missing, self.at)
                self.known.update((ref, read.get(ref)) for ref in missing)
            found = self.known
        via = self.table.via.column if self.table.via else None
        out = []
        for row in rows:
            key = row[self.table.key]
            ref = _text(row.get(owner.column)) if owner is not None else ""
            decision, first = self._judge(key, row, ref, found.get(ref))
            out.append(Verdict(key, decision, first, row.get(via) if via else None))
        return out

    def _judge(self, key, row: dict, owner_ref: str, owner: Owner | None):
        ref = self.ref(key)
        if self.follows:
            return self._keep(ref, "", None, "follows", {"follows": self.parent_type}), None
        if not self.rules or not self.dated:
            return self._keep(ref, "", None, "no_rule", {}), None
        best: tuple | None = None
        first: tuple[date, str] | None = None
        hold = owner.hold if owner is not None else None
        for rule in self.dated:
            due, waiting = self._due(rule, row, owner_ref, owner)
            day = self._first_day(rule, due, hold, owner)
            if day is not None and (first is None or day < first[0]):
                first = (day, rule.id)
            if due is None:
                reason, details = waiting
            elif due > self.at:
                reason, details = "not_yet", {"until": due - timedelta(days=1)}
                if rule.legal_source:
                    reason, details = "legal", {**details, "source": rule.legal_source}
            elif hold is not None and "hold" in rule.unless:
                reason, details = (
                    "hold",
                    {"hold": hold.ref, "hold_reason": hold.reason, "until": hold.until},
                )
            elif owner is not None and owner.other_role and "other_role" in rule.unless:
                reason, details = "other_role", {}
            else:  # due, and nothing keeps it: the first such rule in policy order deletes it
                return Decision(self.record_type, ref, "delete", rule.id, due, "due", {}), first
            candidate = (due or date.max, rule, reason, details)
            if best is None or candidate[0] < best[0]:
                best = candidate
        due, rule, reason, details = best
        return self._keep(ref, rule.id, None if due == date.max else due, reason, details), first

    def _keep(self, ref, rule, due, reason, details) -> Decision:
        return Decision(self.record_type, ref, "keep", rule, due, reason, details)

    def _due(self, rule: Rule, row: dict, owner_ref: str, owner: Owner | None):
        """(due date or None, (reason, details) while it has none)."""
        columns = self.columns[rule.id]
        if columns:
            trigger = next((d for d in (as_date(row.get(c)) for c in columns) if d), None)
            return (self._due_date(rule, trigger) if trigger else None), ("no_trigger", {})
        # An owner trigger (policy check: the table's owner has it).
        if owner is None:
            return None, ("owner_unknown", {"owner": owner_ref})
        if owner.buried is not None:  # gallra deleted it: its relationship ended that day
            if owner.buried.rule == rule.id:  # ... because this very rule ran out
                return owner.buried.deleted_on, ("", {})
            return self._due_date(rule, owner.buried.deleted_on), ("", {})
        trigger = owner.triggers.get(rule.trigger)
        if trigger is not None:
            return self._due_date(rule, trigger), ("", {})
        if rule.trigger == "agreement_ended":
            return None, ("active", {}) if owner.has_agreement else ("no_agreement", {})
        return None, ("account_open", {}) if owner.has_account else ("no_account", {})

    def _due_date(self, rule: Rule, trigger: date) -> date:
        """rule.due_date, remembered: rows share few distinct dates (calendar arithmetic is
        most of judging a row otherwise)."""
        key = (rule.id, trigger)
        due = self.due_dates.get(key)
        if due is None:
            due = self.due_dates[key] = rule.due_date(trigger)
        return due

    def _first_day(self, rule, due: date | None, hold: Hold | None, owner: Owner | None):
        """The first day from `at` to the window's end the rule deletes the row, if any (a hold
        active today keeps it to its end; the owner's other role through the window)."""
        if due is None:
            return None
        day = max(due, self.at)
        if hold is not None and "hold" in rule.unless:
            if hold.until is None:
                return None
            day = max(day, hold.until + timedelta(days=1))
        if owner is not None and owner.other_role and "other_role" in rule.unless:
            return None
        return day if day <= self.last_day else None


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
