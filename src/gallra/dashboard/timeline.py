"""What retention will delete in the coming days, per day and rule, counted by the database.

For each day from today to today + 30, how many records each deletion rule deletes that day
when `enforce` runs daily. A record falls due under a rule on day d when its trigger date is
in (threshold(rule, d - 1), threshold(rule, d)] (`retention.planner.threshold`), or later,
the day after the last hold on it ends; records already overdue count on today.

One aggregate query per record type and rule, whatever the size of the registry: the
database takes the rows the rule reaches by the window's end, computes each row's trigger
dates with the planner's own expressions (`retention.kinds`), the last day a hold active
today covers it, and whether it has another role; a CASE then gives the row the first
(day, rule) on which the planner deletes it: the earliest day any of its rules is due, and of
the rules due that day the first in policy order, as `Planner.first_rule` picks. A row counts
in the query of that rule only. Agreements go with their customer and are counted in the
customer's query.

The front page reads these counts as `enforce` last counted them (dashboard/forecast.py);
the list behind a bar (views.planned) runs its queries at every view.

Speed (measured by bench/dashboard.py): the planner's trigger conditions are correlated
subqueries, which the database would run for every row of a large table. Broader conditions
an index can answer go first instead: the customers whose every agreement ended by the
window's end (one query, shared by every record type they own) and, for people, those with
an account closed by then; the CASE then decides each row exactly. Holds are few: the ids
of what they name are read once, and only rows among those look up their hold. The compiled
SQL is kept for the day. PostgreSQL runs these queries without JIT compilation or parallel
workers, and plans them for a cached database (`quick_queries`).

Simplification: a record that a kept dependant holds back (a customer whose person is held,
an account whose credential stays: `kept_dependant` in the planner) is counted on the day
its own rule is due, where the planner keeps it until the dependant goes too. That moves a
record to an earlier day on the chart; it never deletes anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from gallra.policy.model import Policy, Rule
from gallra.registry.models import BY_RECORD_TYPE, Account, Agreement, Customer, Hold
from gallra.retention.kinds import KINDS, Kind
from gallra.retention.planner import due_date, rules_by_type, threshold

DAYS = 30  # the window: today and the 30 days after it
LISTED = 10_000  # ended customers passed by id; more than that, by subquery
_COMPILED: dict[tuple, tuple[Policy, tuple[str, tuple] | None]] = {}
_THRESHOLDS: dict[tuple, tuple[Policy, dict[str, list[date]]]] = {}


@dataclass
class Timeline:
    start: date
    rules: list[str]  # the deletion rules that reach registry records, in policy order
    counts: Counter = field(default_factory=Counter)  # (day, rule, record type) -> records

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=k) for k in range(DAYS + 1)]

    def total(self, rule: str) -> int:
        return sum(n for (_, r, _), n in self.counts.items() if r == rule)


def deletions(policy: Policy, start: date) -> Timeline:
    """The deletions of each day from `start` to `start` + DAYS, per rule and record type."""
    with quick_queries():
        window = Window(policy, start)
        timeline = Timeline(start, window.rule_ids)
        for kind in sorted(KINDS.values(), key=lambda k: k.stage):
            if not kind.follows and window.reaching[kind.record_type]:
                timeline.counts.update(TypeQuery(kind, window).counts())
    return timeline


@contextmanager
def quick_queries() -> Iterator[None]:
    """A transaction whose queries PostgreSQL plans for a warm cache and runs without JIT
    compilation: they are short, and compiling them took longer than running them."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET LOCAL jit = off; SET LOCAL random_page_cost = 1.1; "
                    "SET LOCAL max_parallel_workers_per_gather = 0"
                )
        yield


class Window:
    """Today and the DAYS after it as the policy's deletion rules see them: each rule's
    threshold for each day, and the customers whose relationship ended in time for a rule
    to reach them (one query)."""

    def __init__(self, policy: Policy, start: date) -> None:
        self.start = start
        self.reaching = rules_by_type(policy)
        used = {r.id: r for rules in self.reaching.values() for r in rules}
        self.rule_ids = [r.id for r in policy.rule if r.id in used]
        self.thresholds = _thresholds(policy, start, list(used.values()))
        self.ended = self._ended_customers(list(used.values()))
        self.held = self._held_owners()
        self.policy = policy
        ended = tuple(self.ended) if isinstance(self.ended, list) else self.ended is None
        held = tuple((name, tuple(ids)) for name, ids in sorted(self.held.items()))
        self.key = (id(policy), start, ended, held)

    def _held_owners(self) -> dict[str, list[int]]:
        """Ids of the records a hold active today names, by the record type of the owners
        that `held_until` looks through (for "agreement": the agreements' customers). One
        query; empty when there are so many that subqueries serve better."""
        names = {n for k in KINDS.values() for n, path in k.held_by.items() if path != "ref"}
        active = Hold.objects.filter(Q(until__isnull=True) | Q(until__gte=self.start))
        parts = [
            BY_RECORD_TYPE[name]
            .objects.filter(ref__in=active.filter(target_type=name).values("target_ref"))
            .annotate(held=Value(name))
            .order_by()
            .values_list("held", "pk")
            for name in sorted(names)
        ] + [
            Agreement.objects.filter(
                ref__in=active.filter(target_type="agreement").values("target_ref")
            )
            .annotate(held=Value("agreement"))
            .order_by()
            .values_list("held", "customer_id")
        ]
        found = list(parts[0].union(*parts[1:], all=True)[: LISTED + 1])
        if len(found) > LISTED:
            return {}
        out: dict[str, list[int]] = {name: [] for name in [*names, "agreement"]}
        for name, pk in found:
            out[name].append(pk)
        return out

    def _ended_customers(self, rules: list[Rule]) -> list[int] | QuerySet | None:
        """Ids of the customers whose every agreement ended by the last threshold of an
        `agreement_ended` rule, less those a hold keeps through the window when every such
        rule yields to holds: nothing else can such a rule delete in the window."""
        reaching = [r for r in rules if r.trigger == "agreement_ended"]
        if not reaching:
            return None
        t = max(self.thresholds[r.id][-1] for r in reaching)
        still_on = Agreement.objects.filter(customer_id=OuterRef("customer_id")).filter(
            Q(end__isnull=True) | Q(end__gt=t)
        )
        ended = Agreement.objects.filter(end__lte=t).exclude(Exists(still_on))
        if all("hold" in r.unless for r in reaching):
            last = self.start + timedelta(days=DAYS)
            through = Hold.objects.filter(Q(until__isnull=True) | Q(until__gte=last))
            held = Customer.objects.filter(
                ref__in=through.filter(target_type="customer").values("target_ref")
            )
            held_agreements = Agreement.objects.filter(
                ref__in=through.filter(target_type="agreement").values("target_ref")
            )
            ended = ended.exclude(customer_id__in=held.values("pk")).exclude(
                customer_id__in=held_agreements.values("customer_id")
            )
        ended = ended.order_by().values("customer_id").distinct()
        ids = list(ended.values_list("customer_id", flat=True)[: LISTED + 1])
        return ids if len(ids) <= LISTED else ended


def _thresholds(policy: Policy, start: date, rules: list[Rule]) -> dict[str, list[date]]:
    """Each rule's threshold for each day of the window, kept for the day: a front page
    asks for them every time it is shown, and they change only with the date or policy."""
    found = _THRESHOLDS.get((id(policy), start))
    if found is None or found[0] is not policy:
        if len(_THRESHOLDS) >= 16:
            _THRESHOLDS.clear()
        by_rule = {
            r.id: [threshold(r, start + timedelta(days=k)) for k in range(DAYS + 1)] for r in rules
        }
        found = _THRESHOLDS[(id(policy), start)] = (policy, by_rule)
    return found[1]


@dataclass(frozen=True)
class Planned:
    """One record in the list behind a bar."""

    record_type: str
    pk: int
    ref: str
    rule: str
    due: date | None  # the day its rule's time ran out (a hold may have kept it longer)
    deleted_on: date


class TypeQuery:
    """The rows of one record type that fall due in the window, each with its (day, rule)."""

    def __init__(self, kind: Kind, window: Window) -> None:
        self.window = window
        self.kind = kind
        self.rules = window.reaching[kind.record_type]
        self.start = window.start
        self.ended = window.ended
        self.thresholds = window.thresholds
        self.followers = [k for k in KINDS.values() if k.follows == kind.record_type]
        self._annotated: tuple[QuerySet, list[str]] | None = None

    def rows(self, rule: Rule, *fields: str) -> QuerySet:
        """The rows `rule` reaches by the window's end, with what decides their (day, rule)."""
        if self._annotated is None:  # built once per record type: building is costly
            self._annotated = self._annotate()
        rows, columns = self._annotated
        return rows.filter(self._narrowed(rule)).values(*fields, *columns)

    def _annotate(self) -> tuple[QuerySet, list[str]]:
        kind = self.kind
        columns: dict = {}
        for rule in self.rules:
            name = f"t_{rule.trigger}"
            columns[name] = kind.triggers[rule.trigger].annotations()[name]
        if any("hold" in r.unless for r in self.rules):
            columns["held_until"] = held_until(kind, self.start, self.window.held)
        if kind.other_role is not None and any("other_role" in r.unless for r in self.rules):
            columns["other_role"] = Case(
                When(kind.other_role, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        for follower in self.followers:
            columns[f"n_{follower.record_type}"] = _count(follower)
        return kind.model.objects.annotate(**columns).order_by(), list(columns)

    def _narrowed(self, rule: Rule) -> Q:
        """Rows that may fall due under `rule` by the window's end, found by an index.

        A superset is enough: the CASE (`slot`) decides from each row's own trigger dates.
        """
        t = self.thresholds[rule.id][-1]
        if rule.trigger == "agreement_ended" and self.ended is not None:
            return Q(**{f"{self.kind.customer_id}__in": self.ended})
        if rule.trigger == "account_closed" and self.kind.record_type == "person":
            # kinds._person_accounts_closed: every account closed, so one of them is.
            return Q(pk__in=Account.objects.filter(closed__lte=t).values("person_id"))
        return self.kind.triggers[rule.trigger].due_q(t)

    def slot(self) -> tuple[str, list]:
        """SQL for each row's first (day k, rule i) as k * len(rules) + i; NULL if none.
        Kept per policy and day, as the SQL of `rows` is."""
        key = (id(self.window.policy), self.start, self.kind.record_type, "slot")
        found = _COMPILED.get(key)
        if found is None or found[0] is not self.window.policy:
            found = _COMPILED[key] = (self.window.policy, self._slot())
        return found[1]

    def _slot(self) -> tuple[str, list]:
        """The CASE of `slot`.

        A rule, once due for a row, stays due on every later day (thresholds only grow and a
        hold only ends), so its first day is found by halving the window: five comparisons
        a row instead of one per day.
        """
        n = len(self.rules)
        firsts, params = [], []
        for i, rule in enumerate(self.rules):
            sql, rule_params = self._first_day(rule, 0, DAYS)
            firsts.append(f"({sql}) * {n} + {i}" if n > 1 else sql)
            params += rule_params
        if n == 1:
            return firsts[0], params
        least = "LEAST" if connection.vendor == "postgresql" else "MIN"
        never = (DAYS + 1) * n  # past the window: no slot
        parts = ", ".join(f"COALESCE({f}, {never})" for f in firsts)
        return f"NULLIF({least}({parts}), {never})", params

    def _first_day(self, rule: Rule, low: int, high: int) -> tuple[str, list]:
        """The first day in [low, high] the rule is due for the row (NULL: none)."""
        if low == high:
            due, params = self._due(rule, low)
            return f"CASE WHEN {due} THEN {low} END", params
        middle = (low + high) // 2
        due, params = self._due(rule, middle)
        early, early_params = self._first_day(rule, low, middle)
        late, late_params = self._first_day(rule, middle + 1, high)
        return (
            f"CASE WHEN {due} THEN {early} ELSE {late} END",
            [*params, *early_params, *late_params],
        )

    def _due(self, rule: Rule, k: int) -> tuple[str, list]:
        """SQL: the rule is due for the row on day k (the planner's `_rule_q`, by columns)."""
        terms = [f'r."t_{rule.trigger}" <= %s']
        params: list = [self.thresholds[rule.id][k]]
        if "hold" in rule.unless:
            terms.append('r."held_until" < %s')
            params.append(self.start + timedelta(days=k))
        if "other_role" in rule.unless and self.kind.other_role is not None:
            terms.append('r."other_role" = 0')
        return " AND ".join(terms), params

    def counts(self) -> Counter:
        """(day, rule, record type) -> records, followers included: one query per rule."""
        out: Counter = Counter()
        for rule in self.rules:
            out.update(self._rule_counts(rule))
        return out

    def _inner(self, rule: Rule, *fields: str) -> tuple[str, tuple] | None:
        """The SQL of `rows`, compiled once per policy, day and set of ended customers (a
        page view a day later, or after an agreement ends, compiles it again): the ORM takes
        longer to build it than the database to run some of these queries."""
        key = (*self.window.key, self.kind.record_type, rule.id, fields)
        found = _COMPILED.get(key)
        if found is None or found[0] is not self.window.policy:
            try:
                compiled = self.rows(rule, *fields).query.sql_with_params()
            except EmptyResultSet:
                compiled = None
            if len(_COMPILED) >= 256:
                _COMPILED.clear()
            found = _COMPILED[key] = (self.window.policy, compiled)
        return found[1]

    def _rule_counts(self, rule: Rule) -> Counter:
        """What `rule` deletes on each day: the rows it reaches whose first (day, rule) is
        its own. A row another rule deletes first is counted in that rule's query."""
        compiled = self._inner(rule)
        if compiled is None:  # no ended customer, say: nothing to ask the database
            return Counter()
        inner, params = compiled
        slot, slot_params = self.slot()
        sums = "".join(f', SUM(r."n_{f.record_type}")' for f in self.followers)
        sql = f"{_rows_as_r(inner)} SELECT {slot} AS slot, COUNT(*){sums} FROM r GROUP BY 1"  # noqa: S608
        out: Counter = Counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *slot_params])
            for slot_value, n, *followers in cursor.fetchall():
                if slot_value is None:  # due only after the window
                    continue
                day, first = self._decode(slot_value)
                if first.id != rule.id:
                    continue
                out[(day, rule.id, self.kind.record_type)] += n
                for follower, m in zip(self.followers, followers, strict=True):
                    out[(day, rule.id, follower.record_type)] += int(m or 0)
        return out

    def records(self, rule: Rule, first: date, last: date, limit: int) -> list[Planned]:
        """The rows `rule` deletes from `first` to `last` (days in the window), by ref."""
        i = next(i for i, r in enumerate(self.rules) if r.id == rule.id)
        wanted = [
            (first - self.start).days * len(self.rules) + i + k * len(self.rules)
            for k in range((last - first).days + 1)
        ]
        compiled = self._inner(rule, "id", "ref")
        if compiled is None:
            return []
        inner, params = compiled
        slot, slot_params = self.slot()
        marks = ", ".join(["%s"] * len(wanted))
        sql = (
            f'{_rows_as_r(inner)} SELECT s.id, s.ref, s.slot, s."t_{rule.trigger}" FROM '  # noqa: S608
            f"(SELECT r.*, {slot} AS slot FROM r) s "
            f"WHERE s.slot IN ({marks}) ORDER BY s.ref LIMIT {int(limit)}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, *slot_params, *wanted])
            found = cursor.fetchall()
        out = []
        for pk, ref, slot_value, trigger in found:
            day, _ = self._decode(slot_value)
            if isinstance(trigger, str):  # SQLite hands raw SQL's dates back as text
                trigger = date.fromisoformat(trigger)
            due = due_date(rule, trigger) if trigger else None
            out.append(Planned(self.kind.record_type, pk, ref, rule.id, due, day))
        for follower in self.followers:
            owners = {p.pk: p for p in out if p.record_type == self.kind.record_type}
            going = follower.model.objects.filter(**{f"{follower.customer_id}__in": owners})
            for owner_id, pk, ref in going.order_by("ref").values_list(
                follower.customer_id, "pk", "ref"
            ):
                owner = owners[owner_id]
                out.append(
                    Planned(follower.record_type, pk, ref, rule.id, owner.due, owner.deleted_on)
                )
        return out

    def _decode(self, slot_value: int) -> tuple[date, Rule]:
        k, i = divmod(int(slot_value), len(self.rules))
        return self.start + timedelta(days=k), self.rules[i]


def _rows_as_r(inner: str) -> str:
    """The candidate rows as `r`, computed once: inlined, PostgreSQL would copy each row's
    subqueries into every WHEN of the CASE that reads them, and run them that often."""
    return f"WITH r AS MATERIALIZED ({inner})"


def held_until(kind: Kind, at: date, held_ids: dict[str, list[int]]) -> Greatest | Case:
    """The last day a hold active on `at` covers the row: date.max while a hold has no end,
    date.min when none covers it. The row is held on day d exactly when this is >= d, since
    a hold active on d is active on every day before it.

    The holds are those `kinds.covering_holds` names: the row's own, those on what owns it
    (`Kind.held_by`), and those on any agreement of its customer. Here they are found by id,
    so that the query does not join every row to its owners just to read their refs, and
    looked up only for rows that a hold names at all: a hashed set, since holds are few,
    given as ids when `held_ids` has them (`Window._held_owners`).
    """
    active = Hold.objects.filter(Q(until__isnull=True) | Q(until__gte=at))
    ends = []
    for name, path in kind.held_by.items():
        held = active.filter(target_type=name)
        if path == "ref":
            named = Q(ref__in=held.values("target_ref"))
            covering = held.filter(target_ref=OuterRef("ref"))
        else:
            key = _id_path(path)
            owner = _model_at(kind, key)
            ids = held_ids.get(name)
            if ids is None:
                ids = owner.objects.filter(ref__in=held.values("target_ref")).values("pk")
            named = Q(**{f"{key}__in": ids})
            ref = owner.objects.filter(pk=OuterRef(OuterRef(key))).order_by().values("ref")[:1]
            covering = held.filter(target_ref=Subquery(ref))
        ends.append(_last_day(named, covering))
    if "customer" in kind.held_by:  # an agreement held holds its customer
        key = _id_path(kind.held_by["customer"])
        held = active.filter(target_type="agreement")
        ids = held_ids.get("agreement")
        if ids is None:
            ids = Agreement.objects.filter(ref__in=held.values("target_ref")).values("customer_id")
        named = Q(**{f"{key}__in": ids})
        agreements = Agreement.objects.filter(customer_id=OuterRef(OuterRef(key))).values("ref")
        ends.append(_last_day(named, held.filter(target_ref__in=agreements)))
    return ends[0] if len(ends) == 1 else Greatest(*ends)


def _last_day(named: Q, covering: QuerySet) -> Case:
    last = (
        covering.annotate(last_day=Coalesce("until", Value(date.max)))
        .order_by("-last_day")
        .values("last_day")[:1]
    )
    return Case(
        When(named, then=Coalesce(Subquery(last), Value(date.min))), default=Value(date.min)
    )


def _id_path(ref_path: str) -> str:
    """The path to the id of the record whose ref `ref_path` reads: customer__ref -> customer."""
    return "pk" if ref_path == "ref" else ref_path.removesuffix("__ref")


def _model_at(kind: Kind, path: str) -> type:
    model = kind.model
    for part in path.split("__"):
        model = model._meta.get_field(part).related_model
    return model


def _count(follower: Kind) -> Coalesce:
    """How many rows of `follower` go with the row (its agreements, for a customer)."""
    path = follower.customer_id
    rows = (
        follower.model.objects.filter(**{path: OuterRef("pk")})
        .order_by()
        .values(path)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows), 0)
