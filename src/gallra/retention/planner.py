"""The retention planner: for a date, which records are due, under which rule, and why not.

`decide(run)` writes the due records of the whole registry into `DueRecord`, kind by kind,
with one INSERT ... SELECT each: the database does the work, whatever the size of the
registry. `plan(at)` runs the same decision inside a transaction it rolls back and streams
one `Decision` per record, with the reasons in words: what `plan` shows is what `enforce`
deletes, by construction.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, Case, CharField, Exists, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from gallra.policy.model import Policy, Rule
from gallra.registry.models import Hold
from gallra.retention.kinds import KINDS, Kind, active_hold, covering_holds
from gallra.retention.models import DueRecord, EnforcementRun

CHUNK = 2000


def due_date(rule: Rule, trigger: date) -> date:
    """The day a record whose trigger happened on `trigger` becomes due under `rule`."""
    return rule.due_date(trigger)


def threshold(rule: Rule, at: date) -> date:
    """The last trigger date whose record is due by `at` (due_date is monotone in the trigger)."""
    return rule.threshold(at)


def rules_by_type(policy: Policy) -> dict[str, list[Rule]]:
    """The deletion rules that reach each record type, in policy order."""
    types_of = {c.id: {f.split(".", 1)[0] for f in c.fields} for c in policy.category if c.fields}
    out: dict[str, list[Rule]] = {t: [] for t in KINDS}
    for rule in policy.rule:
        if rule.action != "delete":
            continue
        for record_type in sorted(set().union(*(types_of.get(c, set()) for c in rule.applies_to))):
            if record_type not in KINDS:
                continue
            if rule.trigger not in KINDS[record_type].triggers:
                raise ValueError(
                    f"rule {rule.id!r}: trigger {rule.trigger!r} does not apply to "
                    f"{record_type} records (it applies to: "
                    f"{', '.join(KINDS[record_type].triggers) or 'none'})"
                )
            out[record_type].append(rule)
    return out


def kept_dependant(kind: Kind, run: EnforcementRun) -> Q:
    """Some row that needs this one stays (it would go with it otherwise)."""
    q = Q(pk__in=[])
    for model, fk in kind.dependants:
        going = DueRecord.objects.filter(run=run, record_type=model.record_type)
        staying = model.objects.filter(**{fk: OuterRef("pk")}).exclude(
            pk__in=going.values("record_id")
        )
        q |= Q(Exists(staying))
    return q


class Planner:
    def __init__(self, policy: Policy, at: date) -> None:
        self.policy = policy
        self.at = at
        self.rules = rules_by_type(policy)
        self.thresholds = {r.id: threshold(r, at) for r in policy.rule if r.action == "delete"}

    def _rule_q(self, kind: Kind, rule: Rule) -> Q:
        q = kind.triggers[rule.trigger].due_q(self.thresholds[rule.id])
        if "hold" in rule.unless:
            q &= ~active_hold(kind, self.at)
        if "other_role" in rule.unless and kind.other_role is not None:
            q &= ~kind.other_role
        return q

    def due_q(self, kind: Kind, run: EnforcementRun) -> Q | None:
        rules = self.rules[kind.record_type]
        if not rules:
            return None
        q = Q()
        for rule in rules:
            q |= self._rule_q(kind, rule)
        return q & ~kept_dependant(kind, run)

    def first_rule(self, kind: Kind) -> Case:
        whens = [
            When(self._rule_q(kind, r), then=Value(r.id)) for r in self.rules[kind.record_type]
        ]
        return Case(*whens, default=Value(""), output_field=CharField())

    def decide(self, run: EnforcementRun) -> int:
        """Write every record due on `self.at` into DueRecord; return how many."""
        total = 0
        for kind in sorted(KINDS.values(), key=lambda k: (k.follows is not None, k.stage)):
            if kind.follows:
                owner = DueRecord.objects.filter(
                    run=run, record_type=kind.follows, record_id=OuterRef(kind.customer_id)
                )
                rows = kind.model.objects.filter(Exists(owner)).annotate(
                    due_rule=owner.values("rule")[:1]
                )
            else:
                q = self.due_q(kind, run)
                if q is None:
                    continue
                rows = kind.model.objects.filter(q).annotate(due_rule=self.first_rule(kind))
            owner = Coalesce(kind.customer_ref, Value("")) if kind.customer_ref else Value("")
            rows = rows.annotate(owner_ref=owner).order_by("pk")
            total += _insert_due(run, kind, rows)
        return total


def _insert_due(run: EnforcementRun, kind: Kind, rows) -> int:
    select = rows.values_list(
        Value(run.pk),
        Value(kind.stage),
        Value(kind.record_type),
        "pk",
        "ref",
        "due_rule",
        "owner_ref",
    )
    sql, params = select.query.sql_with_params()
    columns = "run_id, stage, record_type, record_id, ref, rule, customer_ref"
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {DueRecord._meta.db_table} ({columns}) {sql}", params)  # noqa: S608
        return max(cursor.rowcount, 0)


# -- explaining -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What happens to one record on the plan's date, and why."""

    record_type: str
    ref: str
    action: str  # "delete" or "keep"
    rule: str
    due: date | None
    reason: str  # a code: due, hold, other_role, dependant, not_yet, no_trigger, no_rule
    details: dict

    def as_dict(self) -> dict:
        out = {
            "type": self.record_type,
            "ref": self.ref,
            "rule": self.rule,
            "due": self.due.isoformat() if self.due else None,
            "action": self.action,
        }
        if self.action == "keep":
            out["reason"] = self.reason
            out["details"] = {
                k: v.isoformat() if isinstance(v, date) else v for k, v in self.details.items()
            }
        return out


def plan(
    policy: Policy, at: date, record_type: str | None = None, ref: str | None = None
) -> Iterator[Decision]:
    """Every record's Decision for `at`, kind by kind, without changing anything."""
    with transaction.atomic():
        planner = Planner(policy, at)
        run = EnforcementRun.objects.create(at=at, started=timezone.now(), actor="plan")
        planner.decide(run)
        yield from explain(planner, run, record_type, ref)
        transaction.set_rollback(True)


def _explain_rows(planner: Planner, kind: Kind, run: EnforcementRun, ref: str | None):
    annotations = {}
    for trigger in {r.trigger for r in planner.rules[kind.record_type]}:
        annotations.update(kind.triggers[trigger].annotations())
    for name, holds in covering_holds(kind, planner.at).items():
        annotations[f"hold_{name}"] = holds.order_by("until").values("ref")[:1]
    if kind.other_role is not None:
        annotations["other_role"] = Case(
            When(kind.other_role, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    annotations["dependant_kept"] = kept_dependant(kind, run)
    going = DueRecord.objects.filter(
        run=run, record_type=kind.record_type, record_id=OuterRef("pk")
    )
    annotations["going"] = Exists(going)
    annotations["going_rule"] = going.values("rule")[:1]
    rows = kind.model.objects.annotate(**annotations).order_by("pk")
    if ref is not None:
        rows = rows.filter(ref=ref)
    return rows.values("ref", *annotations).iterator(chunk_size=CHUNK)


def _explain_row(planner: Planner, kind: Kind, row: dict, holds: dict[str, Hold]) -> Decision:
    at = planner.at
    held = next((holds[r] for k, r in row.items() if k.startswith("hold_") and r), None)
    rules = planner.rules[kind.record_type]
    if row["going"]:
        rule = next((r for r in rules if r.id == row["going_rule"]), None)
        due = _trigger_due(rule, row) if rule else None
        return Decision(kind.record_type, row["ref"], "delete", row["going_rule"], due, "due", {})
    if kind.follows:
        return Decision(
            kind.record_type, row["ref"], "keep", "", None, "follows", {"follows": kind.follows}
        )
    if not rules:
        return Decision(kind.record_type, row["ref"], "keep", "", None, "no_rule", {})
    # Of the rules that could delete it, report the one that would do so first.
    best: tuple | None = None
    for rule in rules:
        due = _trigger_due(rule, row)
        if due is None:
            reason, details = _waiting(rule, row)
        elif due > at:
            reason, details = "not_yet", {"until": due - timedelta(days=1)}
            if rule.legal_source:
                reason, details = "legal", {**details, "source": rule.legal_source}
        elif held is not None and "hold" in rule.unless:
            reason, details = (
                "hold",
                {"hold": held.ref, "hold_reason": held.reason, "until": held.until},
            )
        elif row.get("other_role") and "other_role" in rule.unless:
            reason, details = "other_role", {}
        elif row.get("dependant_kept", True):
            reason, details = "dependant", {}
        else:  # due and nothing keeps it: the next enforcement run deletes it
            reason, details = "overdue", {}
        candidate = (due or date.max, rule, reason, details)
        if best is None or candidate[0] < best[0]:
            best = candidate
    due, rule, reason, details = best
    return Decision(
        kind.record_type,
        row["ref"],
        "keep",
        rule.id,
        None if due == date.max else due,
        reason,
        details,
    )


def _trigger_due(rule: Rule, row: dict) -> date | None:
    trigger = row.get(f"t_{rule.trigger}")
    return due_date(rule, trigger) if trigger is not None else None


def _waiting(rule: Rule, row: dict) -> tuple[str, dict]:
    if rule.trigger == "agreement_ended":
        return ("no_agreement", {}) if not row.get("has_agreement") else ("active", {})
    if rule.trigger == "account_closed":
        return ("account_open", {}) if row.get("has_account", True) else ("no_account", {})
    return "no_trigger", {}


_planners: dict[tuple[int, date], Planner] = {}


def _planner(policy: Policy, at: date) -> Planner:
    """A Planner per policy and day, kept: a subject's export asks several times a second."""
    planner = _planners.get((id(policy), at))
    if planner is None or planner.policy is not policy:
        if len(_planners) > 16:
            _planners.clear()
        planner = _planners[(id(policy), at)] = Planner(policy, at)
    return planner


def fates(policy: Policy, at: date, record_type: str, pks: list[int]) -> dict[int, Decision]:
    """The Decision for a handful of records (one subject's), without a planning run.

    A record that is due shows as kept with reason "overdue": the next enforcement run
    deletes it. Dependants are not weighed here; `plan` and `enforce` do that.
    """
    if not pks:
        return {}
    planner = _planner(policy, at)
    kind = KINDS[record_type]
    annotations = {}
    for trigger in {r.trigger for r in planner.rules[record_type]}:
        annotations.update(kind.triggers[trigger].annotations())
    for name, holds in covering_holds(kind, at).items():
        annotations[f"hold_{name}"] = holds.order_by("until").values("ref")[:1]
    if kind.other_role is not None:
        annotations["other_role"] = Case(
            When(kind.other_role, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    rows = list(
        kind.model.objects.filter(pk__in=pks)
        .annotate(**annotations)
        .values("pk", "ref", *annotations)
    )
    refs = {r for row in rows for k, r in row.items() if k.startswith("hold_") and r}
    holds = {h.ref: h for h in Hold.objects.filter(ref__in=refs)} if refs else {}
    out = {}
    for row in rows:
        row.update(going=False, dependant_kept=False)
        out[row["pk"]] = _explain_row(planner, kind, row, holds)
    return out


def explain(
    planner: Planner, run: EnforcementRun, record_type: str | None = None, ref: str | None = None
) -> Iterator[Decision]:
    for kind in sorted(KINDS.values(), key=lambda k: k.stage):
        if record_type and kind.record_type != record_type:
            continue
        buffer: list[dict] = []
        for row in _explain_rows(planner, kind, run, ref):
            buffer.append(row)
            if len(buffer) >= CHUNK:
                yield from _explain_chunk(planner, kind, buffer)
                buffer = []
        yield from _explain_chunk(planner, kind, buffer)


def _explain_chunk(planner: Planner, kind: Kind, rows: list[dict]) -> Iterator[Decision]:
    refs = {r for row in rows for k, r in row.items() if k.startswith("hold_") and r}
    holds = {h.ref: h for h in Hold.objects.filter(ref__in=refs)} if refs else {}
    for row in rows:
        yield _explain_row(planner, kind, row, holds)
