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
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from gallra.evidence.log import append
from gallra.policy.model import Policy
from gallra.registry.models import Hold
from gallra.retention.kinds import KINDS, SET_NULL
from gallra.retention.models import DueRecord, EnforcementRun
from gallra.retention.planner import Planner
from gallra.retention.tasks import create_tasks

BATCH = 5000


@dataclass
class Summary:
    at: date
    run: int
    due: int = 0
    deleted: Counter = field(default_factory=Counter)  # (rule, record_type) -> count
    resumed: bool = False
    dry_run: bool = False

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "run": self.run,
            "due": self.due,
            "deleted": sum(self.deleted.values()),
            "resumed": self.resumed,
            "dry_run": self.dry_run,
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
        return [summary]

    summaries = []
    create_tasks(policy, at, now())
    for run in EnforcementRun.objects.filter(finished__isnull=True).order_by("pk"):
        summaries.append(_finish(run, actor, batch, progress, now, resumed=True))
    with transaction.atomic():
        run = EnforcementRun.objects.create(at=at, started=now(), actor=actor)
        run.due = Planner(policy, at).decide(run)
        run.save(update_fields=["due"])
    summaries.append(_finish(run, actor, batch, progress, now, resumed=False))
    return summaries


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
                )[:batch]  # fmt: skip
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
            },  # fmt: skip
        )
        EnforcementRun.objects.filter(pk=run.pk).update(finished=now())
    return summary


def _delete_batch(run, rows, actor, now, summary: Summary) -> None:
    record_type = rows[0][2]
    kind = KINDS[record_type]
    ids = [r[3] for r in rows]
    refs = [r[4] for r in rows]
    for model, column in SET_NULL.get(record_type, []):
        _execute(f"UPDATE {_table(model)} SET {_q(column)} = NULL WHERE {_q(column)}", ids)  # noqa: S608
    expired_holds = Hold.objects.filter(target_type=record_type, target_ref__in=refs)
    holds_removed = expired_holds._raw_delete(expired_holds.db)
    deleted = _execute(f"DELETE FROM {_table(kind.model)} WHERE {_q('id')}", ids)  # noqa: S608
    if deleted != len(ids):
        raise RuntimeError(
            f"{record_type}: {len(ids) - deleted} due records were already gone; "
            "something else deletes registry records (run `gallra evidence verify`)"
        )
    by_rule: dict[str, list] = defaultdict(list)
    for row in rows:
        by_rule[row[5]].append(row)
    for rule, group in by_rule.items():
        per_customer = Counter(r[6] for r in group if r[6])
        append(
            "delete",
            actor=actor,
            at=now(),
            rule=rule,
            record_type=record_type,
            refs=[r[4] for r in group],
            customers=per_customer,
            data={
                "run": run.pk,
                "deletion_date": run.at.isoformat(),
                "per_customer": dict(per_customer),
                "holds_removed": holds_removed,
            },  # fmt: skip
        )
        summary.deleted[(rule, record_type)] += len(group)
    DueRecord.objects.filter(pk__in=[r[0] for r in rows])._raw_delete(DueRecord.objects.db)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _table(model) -> str:
    return _q(model._meta.db_table)


def _execute(sql_before_in: str, ids: list[int]) -> int:
    """Run `... WHERE column IN ids`, with one array parameter on PostgreSQL."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"{sql_before_in} = ANY(%s)", [ids])
        else:
            marks = ", ".join(["%s"] * len(ids))
            cursor.execute(f"{sql_before_in} IN ({marks})", ids)
        return cursor.rowcount
