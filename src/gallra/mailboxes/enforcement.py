"""Scanning the policy's mailboxes and deleting what is due: resumable, with evidence.

For each mailbox, over one connection:

1. **Scan** every folder: list its messages (IMAP UID or Maildir name, the received time and
   a few header fields), read each one's ref, thread, date and addresses (messages.py), link
   the addresses to customers and prospects, and bring the index (MailMessage) in line: new
   messages added, links updated, gone ones dropped. The addresses are then forgotten.
2. **Finish an interrupted run**: a message an earlier run marked for deletion that is now
   gone from the mailbox was deleted by that run, and is recorded now. One still there is
   judged again with the rest.
3. **Delete**, folder by folder, in batches. Right before each batch its messages are judged
   again with the holds as they are then; the due ones are marked (committed), deleted on the
   server (IMAP: flagged \\Deleted, then UID EXPUNGE of exactly those UIDs, then checked
   gone; Maildir: the files unlinked), and dropped from the index in one transaction with
   one evidence entry per rule. A marked message that is no longer due (a hold came) gets
   its \\Deleted flag taken off again.

Stopped anywhere (a dropped connection, a kill), a run leaves at most marked rows, which the
next run finishes: no message is deleted that was not found due right before, and no deletion
goes unrecorded. Running twice deletes nothing more.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from gallra.evidence.log import append
from gallra.mailboxes.connectors import Imap, MailboxError, Maildir, connect
from gallra.mailboxes.decisions import CHUNK, RECORD_TYPE, Holds, judge_all
from gallra.mailboxes.messages import counted_date, read
from gallra.mailboxes.models import MailMessage, join_refs
from gallra.policy.model import Mailbox, Policy
from gallra.registry.models import Person, Prospect
from gallra.retention.planner import Decision

BATCH = 200
log = logging.getLogger(__name__)


@dataclass
class MailSummary:
    at: date
    dry_run: bool = False
    messages: int = 0  # found in the mailboxes scanned
    due: int = 0
    deleted: Counter = field(default_factory=Counter)  # (rule, mailbox) -> count
    resumed: int = 0  # deleted by an interrupted run, recorded by this one
    unmarked: int = 0  # flagged by an interrupted run, no longer due: the flag taken back
    unreadable: list[str] = field(default_factory=list)  # each message never deleted, and why
    notes: list[str] = field(default_factory=list)  # messages read with a fallback
    problems: list[str] = field(default_factory=list)  # mailboxes not read or not finished

    def as_dict(self) -> dict:
        return {
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
            "messages": self.messages,
            "due": self.due,
            "deleted": sum(self.deleted.values()),
            "resumed": self.resumed,
            "unmarked": self.unmarked,
            "by_rule": [
                {"rule": rule, "mailbox": mailbox, "count": n}
                for (rule, mailbox), n in sorted(self.deleted.items())
            ],
            "unreadable": self.unreadable,
            "notes": self.notes,
            "problems": self.problems,
        }


def enforce_mail(
    policy: Policy,
    at: date,
    *,
    actor: str = "enforce",
    now: Callable[[], datetime] = timezone.now,
    dry_run: bool = False,
    scan_only: bool = False,
    only: str | None = None,
    batch: int = BATCH,
    progress: Callable[[int, int], None] | None = None,
) -> MailSummary:
    """Scan each policy mailbox (or only one) and delete what is due on `at`.

    `dry_run` and `scan_only` scan and count, and change nothing in the mailboxes. A mailbox
    that fails is reported in `problems`; the others are still done.
    """
    summary = MailSummary(at=at, dry_run=dry_run or scan_only)
    # Mailboxes the policy no longer names: their index says nothing true any more.
    stale = MailMessage.objects.exclude(mailbox__in=[m.id for m in policy.mailbox])
    stale.filter(marked__isnull=True).delete()
    for mailbox in policy.mailbox:
        if only and mailbox.id != only:
            continue
        try:
            with connect(mailbox) as connector:
                run = _MailboxRun(policy, mailbox, connector, at, actor, now, summary)
                run.scan()
                if dry_run or scan_only:
                    summary.due += sum(1 for _, d in run.judged() if d.action == "delete")
                else:
                    run.resume()
                    run.delete(batch, progress)
        except MailboxError as exc:
            summary.problems.append(str(exc))
            log.warning("gallra: %s", exc)
    return summary


def link(addresses: Iterable[str]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Customers and prospects by e-mail address (lower case): whom each address names."""
    customers: dict[str, set[str]] = defaultdict(set)
    prospects: dict[str, set[str]] = defaultdict(set)
    addresses = sorted(set(addresses))
    for start in range(0, len(addresses), CHUNK):
        chunk = addresses[start : start + CHUNK]
        people = Person.objects.annotate(address=Lower("email")).filter(address__in=chunk)
        for address, ref in people.values_list("address", "customer__ref"):
            customers[address].add(ref)
        found = Prospect.objects.annotate(address=Lower("email")).filter(address__in=chunk)
        for address, ref in found.values_list("address", "ref"):
            prospects[address].add(ref)
    return customers, prospects


_INDEXED = ("ref", "thread", "date", "dated_by", "customers", "prospects", "unreadable")


class _MailboxRun:
    def __init__(
        self,
        policy,
        mailbox: Mailbox,
        connector: Maildir | Imap,
        at,
        actor,
        now,
        summary: MailSummary,
    ) -> None:
        self.policy, self.mailbox, self.connector = policy, mailbox, connector
        self.at, self.actor, self.now, self.summary = at, actor, now, summary
        self.present: set[str] = set()  # refs found anywhere in the mailbox
        self.gone_marked: list[MailMessage] = []

    # -- 1. scan ---------------------------------------------------------------------------

    def scan(self) -> None:
        for folder in self.mailbox.folders:
            self._scan_folder(folder)
        # Folders the policy no longer names for this mailbox: no longer weeded, not shown.
        rows = MailMessage.objects.filter(mailbox=self.mailbox.id, marked__isnull=True)
        rows.exclude(folder__in=self.mailbox.folders).delete()

    def _scan_folder(self, folder: str) -> None:
        validity = self.connector.select(folder)
        found = [(f, read(f.header)) for f in self.connector.messages()]
        customers, prospects = link(a for _, h in found for a in h.addresses)
        existing = {
            (r.uidvalidity, r.uid): r
            for r in MailMessage.objects.filter(mailbox=self.mailbox.id, folder=folder)
        }
        new, changed = [], []
        for message, headers in found:
            date_, dated_by = counted_date(headers.written, message.received)
            values = {
                "ref": headers.ref,
                "thread": headers.thread,
                "date": date_,
                "dated_by": dated_by,
                "customers": join_refs(c for a in headers.addresses for c in customers.get(a, ())),
                "prospects": join_refs(p for a in headers.addresses for p in prospects.get(a, ())),
                "unreadable": bool(headers.problem),
            }
            row = existing.pop((validity, message.uid), None)
            if row is None:
                row = MailMessage(
                    mailbox=self.mailbox.id,
                    folder=folder,
                    uidvalidity=validity,
                    uid=message.uid,
                    **values,
                )
                new.append(row)
            elif any(getattr(row, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(row, k, v)
                changed.append(row)
            self.present.add(headers.ref)
            if headers.problem:
                self.summary.unreadable.append(
                    f"{row.where}: {headers.problem}; kept until someone checks it"
                )
            if headers.note:
                self.summary.notes.append(f"{row.where}: {headers.note}")
        gone = list(existing.values())
        with transaction.atomic():
            MailMessage.objects.bulk_create(new, batch_size=CHUNK)
            MailMessage.objects.bulk_update(changed, _INDEXED, batch_size=CHUNK)
            _delete_rows([r for r in gone if r.marked is None])
        self.gone_marked += [r for r in gone if r.marked is not None]
        self.summary.messages += len(found)

    def judged(self) -> Iterator[tuple[MailMessage, Decision]]:
        """Each indexed message of the mailbox with its judgement now, folder by folder."""
        holds = Holds.load(self.at)
        rows = MailMessage.objects.filter(mailbox=self.mailbox.id, folder__in=self.mailbox.folders)
        rows = rows.order_by("folder", "date", "pk")
        buffer: list[MailMessage] = []
        for row in rows.iterator(CHUNK):
            buffer.append(row)
            if len(buffer) >= CHUNK:
                yield from zip(buffer, judge_all(self.policy, self.at, buffer, holds), strict=True)
                buffer = []
        yield from zip(buffer, judge_all(self.policy, self.at, buffer, holds), strict=True)

    # -- 2. finish an interrupted run -----------------------------------------------------

    def resume(self) -> None:
        """Marked by an earlier run and gone now: that run deleted them. (Gone from one folder
        but found in another of the mailbox: moved by someone, not deleted.)"""
        done = [r for r in self.gone_marked if r.ref not in self.present]
        moved = [r for r in self.gone_marked if r.ref in self.present]
        with transaction.atomic():
            self._record(done, resumed=True)
            _delete_rows(moved)
        self.summary.resumed += len(done)

    # -- 3. delete ------------------------------------------------------------------------

    def delete(self, batch: int, progress: Callable[[int, int], None] | None) -> None:
        todo: dict[str, list[MailMessage]] = defaultdict(list)
        for row, decision in self.judged():
            if decision.action == "delete":
                self.summary.due += 1
            if decision.action == "delete" or row.marked is not None:
                todo[row.folder].append(row)
        total, done = sum(len(rows) for rows in todo.values()), 0
        for folder in self.mailbox.folders:
            rows = todo.get(folder, [])
            if not rows:
                continue
            validity = self.connector.select(folder)
            for start in range(0, len(rows), batch):
                chunk = rows[start : start + batch]
                if any(r.uidvalidity != validity for r in chunk):
                    raise MailboxError(
                        f"mailbox {self.mailbox.id!r}, folder {folder!r}: UIDVALIDITY changed "
                        "since the scan; nothing deleted, run again"
                    )
                self._batch(folder, chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)

    def _batch(self, folder: str, rows: list[MailMessage]) -> None:
        # Judged at the scan; a hold may have come since: judged again, right before deleting.
        with transaction.atomic():
            fresh = list(MailMessage.objects.filter(pk__in=[r.pk for r in rows]).order_by("pk"))
            decisions = judge_all(self.policy, self.at, fresh)
            going = [(m, d) for m, d in zip(fresh, decisions, strict=True) if d.action == "delete"]
            spared = [
                m
                for m, d in zip(fresh, decisions, strict=True)
                if d.action != "delete" and m.marked is not None
            ]
            marked = self.now()
            for message, decision in going:
                message.marked, message.rule = marked, decision.rule
            MailMessage.objects.bulk_update([m for m, _ in going], ["marked", "rule"])
        if spared:
            self.connector.unmark([m.uid for m in spared])
            with transaction.atomic():
                append(
                    "delete_skipped",
                    actor=self.actor,
                    at=self.now(),
                    record_type=RECORD_TYPE,
                    refs=[m.ref for m in spared],
                    customers={c for m in spared for c in m.customer_refs},
                    data={
                        "mailbox": self.mailbox.id,
                        "folder": folder,
                        "deletion_date": self.at.isoformat(),
                        "why": "no longer due when its deletion was resumed",
                    },
                )
                MailMessage.objects.filter(pk__in=[m.pk for m in spared]).update(
                    marked=None, rule=""
                )
            self.summary.unmarked += len(spared)
        if going:
            self.connector.delete([m.uid for m, _ in going])
            with transaction.atomic():
                self._record([m for m, _ in going], resumed=False)

    def _record(self, rows: list[MailMessage], resumed: bool) -> None:
        """One evidence entry per folder and rule; the rows leave the index with it."""
        groups: dict[tuple[str, str], list[MailMessage]] = defaultdict(list)
        for row in rows:
            groups[(row.folder, row.rule)].append(row)
        for (folder, rule), group in sorted(groups.items()):
            data = {
                "mailbox": self.mailbox.id,
                "folder": folder,
                "deletion_date": self.at.isoformat(),
                "resumed": resumed,
            }
            if resumed:
                data["marked"] = min(r.marked for r in group).isoformat()
            append(
                "delete",
                actor=self.actor,
                at=self.now(),
                rule=rule,
                record_type=RECORD_TYPE,
                refs=[r.ref for r in group],
                customers={c for r in group for c in r.customer_refs},
                data=data,
            )
            self.summary.deleted[(rule, self.mailbox.id)] += len(group)
        _delete_rows(rows)


def _delete_rows(rows: list[MailMessage]) -> None:
    pks = [r.pk for r in rows]
    for start in range(0, len(pks), CHUNK):
        MailMessage.objects.filter(pk__in=pks[start : start + CHUNK]).delete()
