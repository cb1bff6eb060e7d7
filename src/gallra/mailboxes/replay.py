"""A mailbox restored from the provider's own backup: the messages gallra deleted since are
deleted again (`gallra replay`, retention/replay.py). Messages are known by their keyed ref
(messages.py), the same in any copy of the mailbox, so no address is needed to find them."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.db import transaction

from gallra.mailboxes.connectors import MailboxError, connect
from gallra.mailboxes.messages import read
from gallra.mailboxes.models import MailMessage
from gallra.policy.model import Policy
from gallra.retention.replay import record_again


def replay_mail(
    policy: Policy, mailbox_id: str, entries: list, *, actor: str, now: datetime
) -> dict:
    mailbox = next(m for m in policy.mailbox if m.id == mailbox_id)
    deleted_by = {}  # ref -> the entry that deleted it first
    for entry in entries:
        for ref in entry.refs:
            deleted_by.setdefault(ref, entry)
    again: dict[int, list[str]] = defaultdict(list)  # entry seq -> refs deleted again
    try:
        with connect(mailbox) as connector:
            for folder in mailbox.folders:
                connector.select(folder)
                hits = [(f.uid, read(f.header).ref) for f in connector.messages()]
                going = [(uid, ref) for uid, ref in hits if ref in deleted_by]
                if not going:
                    continue
                connector.delete([uid for uid, _ in going])
                for _, ref in going:
                    again[deleted_by[ref].seq].append(ref)
    except MailboxError as exc:
        return {"reapplied": 0, "problems": [str(exc)]}
    with transaction.atomic():
        for entry in entries:
            refs = again.get(entry.seq)
            if not refs:
                continue
            MailMessage.objects.filter(mailbox=mailbox_id, ref__in=refs).delete()
            record_again(entry, refs, actor=actor, now=now)
    return {"reapplied": sum(len(r) for r in again.values()), "problems": []}
