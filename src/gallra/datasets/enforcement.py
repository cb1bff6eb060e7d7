"""Retention in the provider's datasets: the rows due on a date are deleted or overwritten at
their source, in batches, each with its evidence; resumable; a dataset that is down waits.

For each dataset of the policy, over its own connections:

1. **Finish** what an earlier run left between its two steps: marks (DueRow) whose change
   may have reached the source (`applying` set) are applied again, which changes nothing a
   second time (a DELETE or an UPDATE to fixed values by key), and recorded once.
2. **Mark**: every other mark is dropped and the rows are judged again (judging.py), table
   by table in declaration order, a page at a time (keyset pagination: memory stays flat),
   with the owners' facts read from the registry once per page (only owners not read
   earlier in the run). The due rows are marked, in bulk (COPY on PostgreSQL).
   A table reached by `via` follows its parent row: when the parent row goes, the rows that
   point at it go (`erase = "delete"`) or are overwritten (`"overwrite"`); a row the law
   keeps (`"keep"`) keeps its parent row where it is ("dependant").
3. **Apply**, children before parents, a batch at a time: the marks are flagged `applying`
   (committed), the rows are deleted or overwritten in one source transaction, then one
   gallra transaction appends the evidence (one entry per rule and kind of change) and
   drops the marks. Killed between the two, step 1 of the next run finishes the batch.

A dataset that cannot be reached, or that refuses a statement, stops only its own part: the
run reports it (`enforce` exits 1), the others are done, its marks wait for the next run,
and the staff responsible for its data get one alert per outage (through the outbox) with
an evidence entry; another entry records when it is reachable again.

Each run also counts, per rule and day, the rows due in the coming 30 days (`Forecast`):
the front page's chart adds them without opening the provider's databases.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gallra.datasets import sources
from gallra.datasets.judging import TableJudge, record_type
from gallra.datasets.models import DueRow, Forecast, Outage
from gallra.evidence.log import append
from gallra.outbox import mail as outbox
from gallra.policy.model import Dataset, DatasetTable, Policy
from gallra.retention.planner import Decision

BATCH = 5000  # rows changed per source transaction (and per evidence entry at most)
PAGE = 2000  # rows read per page while judging
ALERT_KIND = "dataset_alert"
log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (dataset id, rows done, rows marked)


@dataclass
class DatasetsSummary:
    at: date
    dry_run: bool = False
    due: int = 0
    changed: Counter = field(default_factory=Counter)  # (rule, record type, erase) -> rows
    resumed: int = 0  # rows an interrupted run changed, recorded by this one
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
            "due": self.due,
            "deleted": sum(n for (_, _, erase), n in self.changed.items() if erase == "delete"),
            "overwritten": sum(
                n for (_, _, erase), n in self.changed.items() if erase == "overwrite"
            ),
            "resumed": self.resumed,
            "by_rule": [
                {"rule": rule, "type": kind, "erase": erase, "count": n}
                for (rule, kind, erase), n in sorted(self.changed.items())
            ],
            "problems": self.problems,
        }


def enforce_datasets(
    policy: Policy,
    at: date,
    *,
    actor: str = "enforce",
    now: Callable[[], datetime] = timezone.now,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Progress | None = None,
    only: str | None = None,
) -> DatasetsSummary:
    """Carry out the policy's rules in each dataset (or only one) on `at`; a dry run counts."""
    summary = DatasetsSummary(at=at, dry_run=dry_run)
    declared = [d.id for d in policy.dataset]
    # Datasets the policy no longer names: gallra no longer reaches them (nor may it).
    DueRow.objects.exclude(dataset__in=declared).delete()
    Outage.objects.exclude(dataset__in=declared).delete()
    for dataset in policy.dataset:
        if only and dataset.id != only:
            continue
        try:
            if dry_run:
                with transaction.atomic():
                    with sources.engine(dataset).connect() as conn:
                        marked = mark(policy, at, dataset, conn, scope=secrets.token_hex(8))
                    transaction.set_rollback(True)
                summary.due += marked.due
                save_forecast(dataset, at, marked.forecast)
            else:
                _DatasetRun(policy, dataset, at, actor, now, summary).run(batch, progress)
        except sources.ERRORS as exc:
            problem = sources.failure(dataset, exc)
            summary.problems.append(problem)
            log.warning("gallra: %s", problem)
            if not dry_run:
                unreachable(policy, dataset, problem, actor=actor, now=now())
        else:
            if not dry_run:
                reachable(dataset, actor=actor, now=now())
    return summary


# -- marking ------------------------------------------------------------------------------


@dataclass
class Marked:
    due: int = 0
    forecast: Counter = field(default_factory=Counter)  # (day, table, rule) -> rows


def pages(conn, table: DatasetTable, size: int = PAGE) -> Iterator[list[dict]]:
    """The table's key, `via` and dating columns, in key order, a page at a time."""
    rows = sources.run(conn, table, "first_page", limit=size)
    while rows:
        yield rows
        if len(rows) < size:
            return
        rows = sources.run(conn, table, "page", after=rows[-1][table.key], limit=size)


def mark(policy: Policy, at: date, dataset: Dataset, conn, scope: str = "") -> Marked:
    """Mark every row of `dataset` due on `at` (DueRow, in `scope`), dropping older marks not
    yet being applied; returns how many and the forecast of the coming days."""
    marks = DueRow.objects.filter(scope=scope, dataset=dataset.id)
    marks.filter(applying__isnull=True).delete()
    # Tables the policy no longer declares: gallra may no longer change them.
    marks.exclude(table__in=[t.name for t in dataset.table]).delete()
    marked = Marked()
    for position, table in enumerate(dataset.table):
        judge = TableJudge(policy, at, dataset, table)
        if not judge.follows:
            for rows in pages(conn, table):
                verdicts = judge.judge(rows)
                _insert_marks(
                    [
                        _mark(
                            scope,
                            at,
                            dataset,
                            table,
                            position,
                            v.key,
                            v.decision.rule,
                            v.decision.due,
                        )
                        for v in verdicts
                        if v.decision.action == "delete"
                    ]
                )
                for v in verdicts:
                    if v.first is not None:
                        marked.forecast[(v.first[0], table.name, v.first[1])] += 1
        if table.via is not None:
            _with_parents(conn, scope, at, dataset, table, position, judge.follows)
    _dependants(conn, scope, dataset)
    marked.due = DueRow.objects.filter(scope=scope, dataset=dataset.id).count()
    return marked


MARK_COLUMNS = (
    "scope",
    "at",
    "dataset",
    "table",
    "position",
    "key",
    "key_is_int",
    "rule",
    "erase",
    "due",
    "own",
)


def _mark(scope, at, dataset, table, position, key, rule, due, own=True) -> tuple:
    """A mark as the values of MARK_COLUMNS."""
    erase = "overwrite" if table.erase == "overwrite" else "delete"
    return (
        scope,
        at,
        dataset.id,
        table.name,
        position,
        str(key),
        isinstance(key, int),
        rule,
        erase,
        due,
        own,
    )


def _insert_marks(marks: list[tuple]) -> None:
    """Write marks in bulk, a row marked already left as it is: a run marks hundreds of
    thousands of rows, and model objects (or, on PostgreSQL, statements that long, parsed
    anew each time) would cost most of its time. PostgreSQL: COPY into a temporary table,
    then one INSERT ... SELECT; SQLite: one prepared INSERT for every row."""
    if not marks:
        return
    ops = connection.ops
    names = ", ".join(ops.quote_name(c) for c in MARK_COLUMNS)
    table = ops.quote_name(DueRow._meta.db_table)
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS gallra_new_marks AS SELECT {names} "  # noqa: S608
                f"FROM {table} WITH NO DATA"
            )
            with cursor.cursor.copy(f"COPY gallra_new_marks ({names}) FROM STDIN") as copy:
                for mark_ in marks:
                    copy.write_row(mark_)
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM gallra_new_marks "  # noqa: S608
                "ON CONFLICT DO NOTHING"
            )
            cursor.execute("TRUNCATE gallra_new_marks")
            return
        one = "(" + ", ".join(["%s"] * len(MARK_COLUMNS)) + ")"
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES {one} ON CONFLICT DO NOTHING",  # noqa: S608
            [
                (
                    *m[:1],
                    ops.adapt_datefield_value(m[1]),
                    *m[2:9],
                    ops.adapt_datefield_value(m[9]),
                    m[10],
                )
                for m in marks
            ],
        )


def _by_pk(statement: str, pks: list[int], *params) -> None:
    """Run `statement` (an UPDATE or DELETE of DueRow ending in WHERE) for the marks `pks`:
    one array parameter on PostgreSQL (an IN list of thousands would be parsed each time)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{statement} id = ANY(%s)", [*params, pks])
        else:
            cursor.execute(f"{statement} id IN ({', '.join(['%s'] * len(pks))})", [*params, *pks])


@dataclass(frozen=True, slots=True)
class _Parent:
    """What marking a row's children needs of its parent's mark."""

    pk: int
    key: str
    key_is_int: bool
    rule: str
    due: date | None
    erase: str

    @property
    def source_key(self) -> int | str:
        return int(self.key) if self.key_is_int else self.key


def _marks(scope: str, dataset: Dataset, table: str, **filters) -> Iterator[list[_Parent]]:
    """The marks of a table, sources.CHUNK at a time (keyset on the primary key)."""
    last = 0
    while True:
        rows = [
            _Parent(*values)
            for values in DueRow.objects.filter(
                scope=scope, dataset=dataset.id, table=table, pk__gt=last, **filters
            )
            .order_by("pk")
            .values_list("pk", "key", "key_is_int", "rule", "due", "erase")[: sources.CHUNK]
        ]
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def _with_parents(conn, scope, at, dataset: Dataset, table: DatasetTable, position, follows):
    """Rows whose parent row goes go with it: deleted, or overwritten as declared. A row that
    only follows its parent (no dating of its own) also goes when the parent is overwritten."""
    if table.erase == "keep":
        return  # the law keeps it; a parent row it points at stays for it (_dependants)
    for parents in _marks(scope, dataset, table.via.table):
        by_key = {p.key: p for p in parents}
        if not follows:
            by_key = {k: p for k, p in by_key.items() if p.erase == "delete"}
        if not by_key:
            continue
        links = sources.run(conn, table, "links", keys=[p.source_key for p in by_key.values()])
        _insert_marks(
            [
                _mark(
                    scope,
                    at,
                    dataset,
                    table,
                    position,
                    row[table.key],
                    parent.rule,
                    parent.due,
                    own=False,
                )
                for row in links
                if (parent := by_key.get(str(row[table.via.column]))) is not None
            ]
        )


def _dependants(conn, scope: str, dataset: Dataset) -> None:
    """A parent row cannot be deleted while a row that stays points at it: its mark goes
    (bottom-up, so that the row kept for its child keeps its own parent too)."""
    parents = {t.via.table for t in dataset.table if t.via is not None}
    for table in reversed(dataset.table):
        if table.via is None:
            continue
        if table.erase == "delete" and table.name not in parents:
            # _with_parents marked every row of its parents that go, and no row below it can
            # have lost its mark: none of its rows stays to keep a parent.
            continue
        unlinks = table.erase == "overwrite" and table.via.column in table.set_null
        for parents_ in _marks(scope, dataset, table.via.table, erase="delete"):
            by_key = {p.key: p for p in parents_}
            links = sources.run(conn, table, "links", keys=[p.source_key for p in by_key.values()])
            if not links:
                continue
            keys = [str(r[table.key]) for r in links]
            marks = dict(
                DueRow.objects.filter(
                    scope=scope, dataset=dataset.id, table=table.name, key__in=keys
                ).values_list("key", "erase")
            )
            kept = set()
            for row in links:
                erase = marks.get(str(row[table.key]))
                if erase is None or (erase == "overwrite" and not unlinks):
                    kept.add(str(row[table.via.column]))
            if kept:
                DueRow.objects.filter(
                    pk__in=[by_key[k].pk for k in kept if k in by_key], applying__isnull=True
                ).delete()


# -- applying -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Due:
    """A mark being applied, as read (a plain object: a run applies hundreds of thousands)."""

    pk: int
    dataset: str
    table: str
    key: str
    key_is_int: bool
    rule: str
    erase: str
    at: date

    ref = DueRow.ref
    source_key = DueRow.source_key


class _DatasetRun:
    def __init__(self, policy, dataset: Dataset, at, actor, now, summary) -> None:
        self.policy, self.dataset, self.at = policy, dataset, at
        self.actor, self.now, self.summary = actor, now, summary

    def run(self, batch: int, progress: Progress | None) -> None:
        engine = sources.engine(self.dataset)
        with engine.connect():  # reachable at all? (else: nothing is marked or dropped)
            pass
        self._apply(batch, None, resumed=True, applying=True)
        with engine.connect() as conn:
            marked = mark(self.policy, self.at, self.dataset, conn)
        self.summary.due += marked.due
        self._apply(batch, progress, resumed=False, applying=False)
        forecast = Counter({k: n for k, n in marked.forecast.items() if k[0] > self.at})
        save_forecast(self.dataset, self.at, forecast)

    def _apply(self, batch: int, progress: Progress | None, *, resumed: bool, applying: bool):
        marks = DueRow.objects.filter(
            scope="", dataset=self.dataset.id, applying__isnull=not applying
        )
        total, done = marks.count(), 0
        for table in reversed(self.dataset.table):  # children before parents
            while True:
                rows = [
                    _Due(*values)
                    for values in marks.filter(table=table.name)
                    .order_by("pk")
                    .values_list(
                        "pk", "dataset", "table", "key", "key_is_int", "rule", "erase", "at"
                    )[:batch]
                ]
                if not rows:
                    break
                self._batch(table, rows, resumed)
                done += len(rows)
                if progress:
                    progress(self.dataset.id, done, total)

    def _batch(self, table: DatasetTable, rows: list[_Due], resumed: bool) -> None:
        pks = [r.pk for r in rows]
        marks = connection.ops.quote_name(DueRow._meta.db_table)
        with transaction.atomic():
            _by_pk(
                f"UPDATE {marks} SET applying = %s WHERE",  # noqa: S608
                pks,
                connection.ops.adapt_datetimefield_value(self.now()),
            )
        committing = False
        try:
            with sources.engine(self.dataset).connect() as conn, conn.begin() as source:
                for erase in ("delete", "overwrite"):
                    keys = [r.source_key for r in rows if r.erase == erase]
                    for chunk in sources.chunks(keys):
                        sources.run(conn, table, erase, keys=chunk)
                committing = True
                source.commit()
        except sources.ERRORS:
            if not committing:  # the source rolled back: nothing of it happened
                _by_pk(f"UPDATE {marks} SET applying = NULL WHERE", pks)  # noqa: S608
            raise
        self._record(table, rows, resumed)

    def _record(self, table: DatasetTable, rows: list[_Due], resumed: bool) -> None:
        groups: dict[tuple[str, str, date], list[_Due]] = defaultdict(list)
        for row in rows:
            groups[(row.rule, row.erase, row.at)].append(row)
        kind = record_type(self.dataset, table)
        with transaction.atomic():
            for (rule, erase, at), group in sorted(groups.items()):
                append(
                    "delete",
                    actor=self.actor,
                    at=self.now(),
                    rule=rule,
                    record_type=kind,
                    refs=[r.ref for r in group],
                    data={
                        "store": self.dataset.id,
                        "table": table.name,
                        "erase": erase,
                        "deletion_date": at.isoformat(),
                    },
                )
                self.summary.changed[(rule, kind, erase)] += len(group)
            table_ = connection.ops.quote_name(DueRow._meta.db_table)
            _by_pk(f"DELETE FROM {table_} WHERE", [r.pk for r in rows])  # noqa: S608
        if resumed:
            self.summary.resumed += len(rows)


# -- outages ------------------------------------------------------------------------------


def unreachable(policy: Policy, dataset: Dataset, problem: str, *, actor: str, now: datetime):
    """The first failure of an outage is recorded and its staff are told, once."""
    with transaction.atomic():
        outage, new = Outage.objects.select_for_update().get_or_create(
            dataset=dataset.id, defaults={"since": now, "problem": problem}
        )
        if new:
            append(
                "dataset_unreachable",
                actor=actor,
                at=now,
                data={"store": dataset.id, "problem": problem},
            )
        if outage.alerted is None:
            to = staff_addresses(policy, dataset)
            if to:  # none with an address yet: the next run tries again
                outbox.queue(_alert(policy, dataset, outage, to), kind=ALERT_KIND, now=now)
                outage.alerted = now
                outage.save(update_fields=["alerted"])


def reachable(dataset: Dataset, *, actor: str, now: datetime) -> None:
    with transaction.atomic():
        outage = Outage.objects.select_for_update().filter(dataset=dataset.id).first()
        if outage is not None:
            append(
                "dataset_reachable",
                actor=actor,
                at=now,
                data={"store": dataset.id, "since": outage.since.isoformat()},
            )
            outage.delete()


def staff_addresses(policy: Policy, dataset: Dataset) -> list[str]:
    """The active staff in the roles responsible for the dataset's categories of data (the
    Django group named like the role), or else in the accountable role."""
    roles = {
        policy.category_by_id(category).responsible
        for table in dataset.table
        for category in table.columns.values()
    }
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    for names in (sorted(roles), [policy.organisation.accountable]):
        found = sorted({u.email for u in users.filter(groups__name__in=names)})
        if found:
            return found
    return []


def _alert(policy: Policy, dataset: Dataset, outage: Outage, to: list[str]) -> outbox.Message:
    with translation.override(policy.languages[0]):
        name = policy.text(dataset.name, policy.languages[0])
        subject = _("gallra cannot reach the dataset %(dataset)s") % {"dataset": dataset.id}
        since = f"{timezone.localtime(outage.since):%Y-%m-%d %H:%M}"
        body = "\n".join(
            [
                _("gallra could not reach the dataset %(dataset)s (%(name)s) since %(since)s:")
                % {"dataset": dataset.id, "name": name, "since": since},
                "",
                outage.problem,
                "",
                _(
                    "The rows due for deletion there wait: every enforcement run tries again, and "
                    "the other datasets and stores are done as usual. You get no other mail while "
                    "the outage lasts; the evidence log records when it is reachable again."
                ),
            ]
        )
    return outbox.Message(subject, body, tuple(to))


# -- the forecast ---------------------------------------------------------------------------


def save_forecast(dataset: Dataset, at: date, counts: Counter) -> None:
    """Replace the dataset's forecast counted for `at` (and older ones) with `counts`."""
    with transaction.atomic():
        Forecast.objects.filter(dataset=dataset.id, counted_on__lte=at).delete()
        Forecast.objects.bulk_create(
            Forecast(counted_on=at, day=day, dataset=dataset.id, table=table, rule=rule, rows=n)
            for (day, table, rule), n in sorted(counts.items())
        )


def forecast(start: date, days: int) -> Counter:
    """(day, rule, `DATASET:TABLE`) -> rows due, for `start` to `start` + `days`, from each
    dataset's latest forecast counted on or before `start`; rows due earlier that the last
    run left count on `start`."""
    out: Counter = Counter()
    last = start + timedelta(days=days)
    latest = {}
    for dataset, counted in (
        Forecast.objects.filter(counted_on__lte=start)
        .values_list("dataset", "counted_on")
        .distinct()
    ):
        latest[dataset] = max(counted, latest.get(dataset, counted))
    for dataset, counted in latest.items():
        rows = Forecast.objects.filter(dataset=dataset, counted_on=counted, day__lte=last)
        for day, table, rule, n in rows.values_list("day", "table", "rule", "rows"):
            out[(max(day, start), rule, record_type(dataset, table))] += n
    return out


# -- plan and explain -----------------------------------------------------------------------


def plan_datasets(
    policy: Policy, at: date, wanted: str | None = None, ref: str | None = None
) -> Iterator[Decision]:
    """Each row's Decision on `at`, dataset by dataset (only the tables of type `wanted`, or
    only the row `ref`), as `enforce` would decide: marked in a transaction rolled back."""
    for dataset in policy.dataset:
        tables = [t for t in dataset.table if wanted in (None, record_type(dataset, t))]
        if ref is not None:
            tables = [t for t in tables if ref.startswith(record_type(dataset, t) + ":")]
        if not tables:
            continue
        try:
            yield from _plan_dataset(policy, at, dataset, tables, ref)
        except sources.ERRORS as exc:
            log.warning("gallra plan: %s", sources.failure(dataset, exc))


def _plan_dataset(policy, at, dataset: Dataset, tables: list[DatasetTable], ref: str | None):
    scope = secrets.token_hex(8)
    with transaction.atomic():
        with sources.engine(dataset).connect() as conn:
            marked = mark(policy, at, dataset, conn, scope=scope)
            for table in tables:
                judge = TableJudge(policy, at, dataset, table)
                for rows in pages(conn, table):
                    verdicts = judge.judge(rows)
                    if ref is not None:
                        verdicts = [v for v in verdicts if judge.ref(v.key) == ref]
                    if not verdicts:
                        continue
                    found = DueRow.objects.filter(
                        scope=scope,
                        dataset=dataset.id,
                        table=table.name,
                        key__in=[str(v.key) for v in verdicts],
                    )
                    marks = {m.key: m for m in found}
                    for v in verdicts:
                        yield _with_mark(v.decision, marks.get(str(v.key)))
        transaction.set_rollback(True)
    if ref is None:
        save_forecast(dataset, at, marked.forecast)


def _with_mark(decision: Decision, mark: DueRow | None) -> Decision:
    if mark is not None:
        return Decision(
            decision.record_type, decision.ref, "delete", mark.rule, mark.due, "due", {}
        )
    if decision.action == "delete":  # due, but a row that stays points at it
        return Decision(
            decision.record_type, decision.ref, "keep", decision.rule, decision.due, "dependant", {}
        )
    return decision


def explain_row(policy: Policy, at: date, ref: str) -> Decision | None:
    """The Decision for one row named `DATASET:TABLE:KEY`, or None if no such row."""
    found = plan_datasets(policy, at, ref=ref)
    try:
        return next(found, None)
    finally:
        found.close()  # its marks are rolled back now, not when the generator is collected
