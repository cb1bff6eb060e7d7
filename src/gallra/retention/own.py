"""gallra's own data as retention stores: each kind ends under its own rule, like any other data
(docs/retention.md, "gallra's own data").

Closed data-subject requests, consent proofs, duplicate marks, anti-spam state, the outbox and
the evidence log are what gallra keeps to do its work. `[own_data]` in the policy names each
kind's category; the category's one rule says when it goes (policy/loading.py checks it).
The apps above retention register their kinds with `OwnDataStore` in their AppConfig.ready();
the evidence log's store is here, since that app sits below retention; the outbox's is in
instance/stores.py (the outbox is a service every layer uses, so retention does not import it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import ngettext

from gallra.evidence import log
from gallra.policy.model import Policy, Rule
from gallra.retention.stores import Store

BATCH = 5000  # rows per transaction, each with its evidence entry


def due_before(rule: Rule, at: date) -> datetime | None:
    """Records made before this moment are due under `rule` on `at` (their day counted in
    Europe/Stockholm); None when nothing is due yet."""
    last = rule.threshold(at)
    if last == date.min:
        return None
    return datetime.combine(last + timedelta(days=1), time.min, timezone.get_default_timezone())


def delete_in_batches(
    due: QuerySet,
    *,
    rule: str,
    record_type: str,
    actor: str,
    now: Callable[[], datetime],
    at: date,
    ref_field: str = "",
    delete: Callable[[list], int] | None = None,
    batch: int = BATCH,
) -> int:
    """Delete the rows of `due`, BATCH at a time, each batch with one evidence entry (refs:
    the rows' `ref_field`, never personal). `delete(pks)` deletes one batch when a model needs
    more than a plain delete; it returns how many of `due`'s rows went."""
    model, total = due.model, 0
    fields = ["pk", *([ref_field] if ref_field else [])]
    while True:
        with transaction.atomic():
            rows = list(due.order_by("pk").values_list(*fields)[:batch])
            if not rows:
                break
            if connection.vendor == "sqlite":  # overwrite the freed pages, not just unlink them
                with connection.cursor() as cursor:
                    cursor.execute("PRAGMA secure_delete = ON")
            pks = [row[0] for row in rows]
            if delete is not None:
                deleted = delete(pks)
            else:
                deleted = model.objects.filter(pk__in=pks).delete()[1].get(model._meta.label, 0)
            if not deleted:
                break
            refs = sorted({row[1] for row in rows if row[1]}) if ref_field else []
            log.append(
                "delete",
                actor=actor,
                at=now(),
                rule=rule,
                record_type=record_type,
                refs=refs,
                count=deleted,
                data={"deletion_date": at.isoformat()},
            )
        total += deleted
    return total


class OwnDataStore(Store):
    """One kind of gallra's own data: the rows `due` returns go under the kind's rule."""

    kind = ""  # its key in the policy's [own_data]
    record_type = ""  # names the rows in the evidence log
    ref_field = ""  # a field naming each row in the evidence (a random ref), if any
    order = 50  # after the registry's deletions and the mailboxes, before the deletion memory

    def due(self, policy: Policy, at: date) -> QuerySet:
        """The rows due on `at`."""
        raise NotImplementedError

    def said(self, n: int) -> str:
        """The summary's words for n deleted rows, with %(rule)s and %(n)s (ngettext)."""
        raise NotImplementedError

    # delete_rows(pks) -> int: deletes one batch where a plain delete will not do (and returns
    # how many of the kind's rows went); None: a plain delete.
    delete_rows: Callable[[list], int] | None = None

    def rule(self, policy: Policy) -> Rule:
        return policy.own_data_rule(self.kind)

    def enforce(
        self,
        policy: Policy,
        at: date,
        *,
        actor: str,
        now: Callable[[], datetime],
        dry_run: bool = False,
    ) -> dict:
        rule = self.rule(policy)
        due = self.due(policy, at)
        if dry_run:
            return {"rule": rule.id, "deleted": due.count()}
        deleted = delete_in_batches(
            due,
            rule=rule.id,
            record_type=self.record_type,
            actor=actor,
            now=now,
            at=at,
            ref_field=self.ref_field,
            delete=self.delete_rows,
        )
        return {"rule": rule.id, "deleted": deleted}

    def summary_lines(self, part: dict, lang: str) -> list[str]:
        n = part.get("deleted", 0)
        if not n:
            return []
        with translation.override(lang):
            said = self.said(n)
        return ["  " + said % {"rule": part["rule"], "n": n}]

    def would_delete(self, part: dict) -> int:
        return part.get("deleted", 0)


def made_before(policy: Policy, kind: str, at: date) -> datetime | None:
    """due_before() for the rule of one kind of own data."""
    return due_before(policy.own_data_rule(kind), at)


class EvidenceStore(Store):
    """The evidence log's own rule: its oldest entries go, and the anchor keeps the chain
    checkable (evidence/log.py `prune`, docs/evidence.md). Last of all stores."""

    id = "evidence"
    order = 1000

    def enforce(
        self,
        policy: Policy,
        at: date,
        *,
        actor: str,
        now: Callable[[], datetime],
        dry_run: bool = False,
    ) -> dict:
        rule = policy.own_data_rule("evidence")
        # Never ahead of the real day: `enforce --at` a future day (a rehearsal) must not end
        # the proof of what is still to come.
        day = min(at, timezone.localdate(now()))
        last = rule.threshold(day)
        if last == date.min:
            return {"rule": rule.id, "deleted": 0}
        before = last + timedelta(days=1)
        part = {"rule": rule.id, "before": before.isoformat()}
        if dry_run:
            return {**part, "deleted": log.prunable(before)[1]}
        try:
            deleted = log.prune(before, actor=actor, at=now(), rule=rule.id, on=day)
        except log.PruneRefused as exc:
            return {**part, "deleted": 0, "problems": [f"the evidence log was not pruned: {exc}"]}
        return {**part, "deleted": deleted}

    def summary_lines(self, part: dict, lang: str) -> list[str]:
        n = part.get("deleted", 0)
        if not n:
            return []
        with translation.override(lang):
            said = ngettext(
                "%(rule)s: %(n)s evidence entry made before %(before)s",
                "%(rule)s: %(n)s evidence entries made before %(before)s",
                n,
            )
        return ["  " + said % {"rule": part["rule"], "n": n, "before": part.get("before", "")}]

    def would_delete(self, part: dict) -> int:
        return part.get("deleted", 0)
