"""`enforce`: delete what the plan says is due, in batches, each with its evidence.

1. Decide (one transaction): the planner writes every due record of the date into
   DueRecord. Killed before this commits, nothing happened; the next run decides again.
2. Delete (one transaction per batch): up to BATCH due records of one kind are deleted by
   primary key, references to them that may stay are emptied, the holds that named them go
   (they can only be expired ones), an evidence entry per rule is appended, and their
   DueRecord rows are removed. Killed inside a batch, the batch is rolled back whole.
3. Finish: the run is marked finished with a summary entry.

A run that did not finish is finished by the next `enforce`, with its own date, before a new
one starts: nothing is deleted twice and no deletion goes unlogged.

The stores outside the registry (stores.py: home directory grants, login events, mailboxes)
take their turn around this: those that must go first before step 1, the others after step
3. Each adds its part to the run's summary.
"""

from __future__ import annotations

import fcntl
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gallra.evidence.log import append
from gallra.policy.model import Policy
from gallra.registry import crypto, tombstones
from gallra.registry.models import Hold
from gallra.retention.kinds import KINDS, SET_NULL, active_hold
from gallra.retention.models import DueRecord, EnforcementRun
from gallra.retention.planner import Planner, kept_dependant
from gallra.retention.signals import enforcement_finished, records_deleted
from gallra.retention.stores import Store
from gallra.retention.stores import stores as registered_stores
from gallra.retention.tasks import create_tasks, follow_staff

BATCH = 20000  # records per transaction: fewer commits and per-batch queries


@dataclass
class Summary:
    at: date
    run: int
    due: int = 0
    deleted: Counter = field(default_factory=Counter)  # (rule, record_type) -> count
    resumed: bool = False
    dry_run: bool = False
    stores: dict[str, dict] = field(default_factory=dict)  # store id -> what it did (stores.py)

    @property
    def logins(self) -> dict:
        """What the login rule did (the logins store's part)."""
        return self.stores.get("logins", {})

    @property
    def mail(self) -> dict:
        """What the mailboxes' rules did (the mailboxes store's part)."""
        return self.stores.get("mail", {})

    @property
    def problems(self) -> list[str]:
        """What a store could not do this run (the next run resumes it)."""
        found = {s.id: s for s in registered_stores()}
        return [
            problem
            for store_id, part in self.stores.items()
            for problem in found.get(store_id, Store()).problems(part)
        ]

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "run": self.run,
            "due": self.due,
            "deleted": sum(self.deleted.values()),
            "resumed": self.resumed,
            "dry_run": self.dry_run,
            **{s.id: {} for s in registered_stores()},  # every store's key, in every run
            **self.stores,
            "by_rule": [
                {"rule": rule, "type": record_type, "count": n}
                for (rule, record_type), n in sorted(self.deleted.items())
            ],
        }


def enforce(
    policy: Policy,
    at: date,
    *,
    actor: str = "enforce",
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
    now: Callable[[], datetime] = timezone.now,
) -> list[Summary]:
    """Finish any unfinished run, then run for `at`. Returns one Summary per run carried out."""
    if dry_run:
        with transaction.atomic():
            run = EnforcementRun.objects.create(at=at, started=now(), actor=actor)
            Planner(policy, at).decide(run)
            summary = Summary(at=at, run=run.pk, dry_run=True)
            for rule, record_type in (
                DueRecord.objects.filter(run=run).values_list("rule", "record_type").iterator()
            ):
                summary.deleted[(rule, record_type)] += 1
            summary.due = sum(summary.deleted.values())
            transaction.set_rollback(True)
        for store in registered_stores():
            summary.stores[store.id] = store.enforce(policy, at, actor=actor, now=now, dry_run=True)
        return [summary]

    summaries = []
    with only_one_enforcer(), without_jit():
        # Homes first (P3): no account or agreement goes while a grant still names it.
        first = [s for s in registered_stores() if s.before_registry]
        done = {s.id: s.enforce(policy, at, actor=actor, now=now) for s in first}
        create_tasks(policy, at, now())
        follow_staff(policy, now(), actor=actor)  # who joined or took a role since gets theirs
        for run in EnforcementRun.objects.filter(finished__isnull=True).order_by("pk"):
            summaries.append(_finish(run, actor, batch, progress, now, resumed=True))
        with transaction.atomic():
            run = EnforcementRun.objects.create(at=at, started=now(), actor=actor)
            run.due = Planner(policy, at).decide(run)
            run.save(update_fields=["due"])
        summaries.append(_finish(run, actor, batch, progress, now, resumed=False))
        for store in registered_stores():  # logins, mail (P19, P21): as of today's registry
            if not store.before_registry:
                done[store.id] = store.enforce(policy, at, actor=actor, now=now)
        summaries[-1].stores = done
    enforcement_finished.send_robust(enforce, policy=policy, at=at)
    return summaries


@contextmanager
def without_jit() -> Iterator[None]:
    """PostgreSQL: no JIT compilation while enforcing.

    Each decide and batch query runs once; on a registry of a million records their estimated
    cost passes the JIT threshold and compiling them took longer than running them (2.1 s of
    3.0 s for the people's decide query in bench/enforce.py).
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


class EnforcementBusy(Exception):
    """Another `enforce` is running against the same database."""


LOCK_KEY = 0x6A11_2A  # PostgreSQL advisory lock id for enforcement ("gallra")


@contextmanager
def only_one_enforcer() -> Iterator[None]:
    """Two runs at once would race for the same records: the second one refuses to start.

    PostgreSQL: a session advisory lock (it holds across the run's transactions and every
    gallra process on any machine sees it). SQLite: a lock file beside the database.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                raise EnforcementBusy(_("another `gallra enforce` is running on this database"))
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        return
    if connection.is_in_memory_db():  # only this process can see it
        yield
        return
    path = Path(str(connection.settings_dict["NAME"]) + ".enforce-lock")
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EnforcementBusy(
                _("another `gallra enforce` is running (%(lock)s)") % {"lock": path}
            ) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _finish(run, actor, batch, progress, now, resumed: bool) -> Summary:
    summary = Summary(at=run.at, run=run.pk, due=run.due, resumed=resumed)
    done = run.due - DueRecord.objects.filter(run=run).count()
    while True:
        with transaction.atomic():
            rows = list(
                DueRecord.objects.filter(run=run)
                .order_by("stage", "pk")
                .values_list(
                    "pk", "stage", "record_type", "record_id", "ref", "rule", "customer_ref"
                )[:batch]
            )
            if not rows:
                break
            rows = [r for r in rows if r[1] == rows[0][1]]  # one kind per batch
            _delete_batch(run, rows, actor, now, summary)
            done += len(rows)
        if progress:
            progress(done, run.due)
    with transaction.atomic():
        counts = {f"{rule}/{t}": n for (rule, t), n in sorted(summary.deleted.items())}
        append(
            "enforce_finished",
            actor=actor,
            at=now(),
            count=run.due,
            data={
                "run": run.pk,
                "deletion_date": run.at.isoformat(),
                "resumed": resumed,
                "deleted_in_this_process": counts,
            },
        )
        EnforcementRun.objects.filter(pk=run.pk).update(finished=now())
    return summary


def _delete_batch(run, rows, actor, now, summary: Summary) -> None:
    """Delete one batch: `rows` are the first DueRecord rows of one stage, in pk order.

    The database works on the batch as a set (the run's DueRecord rows of the stage between
    the first and last pk): no statement carries one parameter per record.
    """
    record_type, stage = rows[0][2], rows[0][1]
    kind = KINDS[record_type]
    batch = DueRecord.objects.filter(run=run, stage=stage, pk__gte=rows[0][0], pk__lte=rows[-1][0])
    # Decided earlier, perhaps by a run that was killed: what is held now, or needed by what
    # stays, or already gone, is not deleted (and said so in the evidence).
    still_due = set(
        kind.model.objects.filter(pk__in=batch.values("record_id"))
        .exclude(active_hold(kind, run.at) | kept_dependant(kind, run))
        .values_list("pk", flat=True)
    )
    going = [r for r in rows if r[3] in still_due]
    spared = [r for r in rows if r[3] not in still_due]
    if spared:  # from here on the batch is what goes
        DueRecord.objects.filter(pk__in=[r[0] for r in spared])._raw_delete(DueRecord.objects.db)
    if going and record_type == "customer":  # the data key first: every copy becomes unreadable
        crypto.destroy_keys([r[4] for r in going], now=now(), actor=actor, why="retention")
    if going:
        ids = batch.values("record_id")
        names: list[str] = []
        if record_type == "account":  # stores that know an account by its name hear it below
            names = list(kind.model.objects.filter(pk__in=ids).values_list("username", flat=True))
        for model, column in SET_NULL.get(record_type, []):
            _execute(f"UPDATE {_table(model)} SET {_q(column)} = NULL WHERE {_q(column)}", ids)  # noqa: S608
        _execute(f"DELETE FROM {_table(kind.model)} WHERE {_q('id')}", ids)  # noqa: S608
        records_deleted.send(  # in this batch's transaction: logins forgets the names
            sender=kind.model, record_type=record_type, refs=[r[4] for r in going], names=names
        )
    by_rule: dict[str, list] = defaultdict(list)
    for row in going:
        by_rule[row[5]].append(row)
    for rule, group in by_rule.items():
        refs = [r[4] for r in group]
        tombstones.bury(record_type, refs, rule=rule, on=run.at, now=now())  # never imported again
        # Only expired holds can name a record that is going; they go with it.
        holds = Hold.objects.filter(
            target_type=record_type,
            target_ref__in=batch.filter(rule=rule).values("ref"),
            until__lt=run.at,
        )
        per_customer = Counter(r[6] for r in group if r[6])
        append(
            "delete",
            actor=actor,
            at=now(),
            rule=rule,
            record_type=record_type,
            refs=refs,
            customers=per_customer,
            data={
                "run": run.pk,
                "deletion_date": run.at.isoformat(),
                "per_customer": dict(per_customer),
                "holds_removed": holds._raw_delete(holds.db),
            },
        )
        summary.deleted[(rule, record_type)] += len(group)
    if spared:
        append(
            "delete_skipped",
            actor=actor,
            at=now(),
            record_type=record_type,
            refs=[r[4] for r in spared],
            customers={r[6] for r in spared if r[6]},
            data={
                "run": run.pk,
                "deletion_date": run.at.isoformat(),
                "why": "held, needed or gone since the run decided",
            },
        )
    batch._raw_delete(batch.db)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _q(model._meta.db_table)


def _execute(sql_before_in: str, ids) -> int:
    """Run `... WHERE column IN (ids)`, ids being a query of one column."""
    subquery, params = ids.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql_before_in} IN ({subquery})", params)
        return cursor.rowcount
