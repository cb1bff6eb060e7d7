"""`gallra backup restore`: the database back from a snapshot, and nothing erased with it.

A snapshot is up to a week old. What was deleted or erased since is still in it, so a restore
alone would bring it back. gallra therefore reads, before it replaces the database, every
deletion, erasure and key destruction recorded after the snapshot was taken: from the live
evidence log when there is one, and from the journal in the newest keys snapshot (keys.py),
which is what is left when the server itself was lost. After the restore it carries each one
out again and records it anew, with where it came from. The customers' data keys come from
the live database, or else from the keys snapshot, less any destroyed since.
"""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, transaction

from gallra.backups import dump, keys
from gallra.backups.restic import BackupError
from gallra.backups.runs import SCRATCH, lock, remove_leftovers, restore_database, snapshots
from gallra.evidence.log import append
from gallra.evidence.models import ChainHead, Entry
from gallra.logins.models import LoginEvent, MonthKey, SealingKey
from gallra.policy.loading import current_policy
from gallra.registry import tombstones
from gallra.registry.models import BY_RECORD_TYPE, CustomerKey
from gallra.retention import replay
from gallra.retention.stores import owner_of


@dataclass
class Restored:
    snapshot: str
    taken: datetime
    replayed: Counter = field(default_factory=Counter)
    journal_from: list[str] = field(default_factory=list)
    keys: int = 0
    places: dict[str, dict] = field(default_factory=dict)  # dataset/mailbox id -> its replay

    @property
    def problems(self) -> list[str]:
        return [p for part in self.places.values() for p in part.get("problems", [])]


def pick(snapshot: str) -> dict:
    found = snapshots()
    if not found:
        raise BackupError("there is no snapshot to restore")
    if snapshot == "latest":
        return found[-1]
    matches = [s for s in found if s["id"].startswith(snapshot)]
    if len(matches) != 1:
        raise BackupError(f"no single snapshot has the id {snapshot!r} (`gallra backup snapshots`)")
    return matches[0]


def restore(snapshot: str, *, now: datetime, actor: str = "backup") -> Restored:
    with lock():
        return _restore(snapshot, now, actor)


def _restore(snapshot: str, now: datetime, actor: str) -> Restored:
    snap = pick(snapshot)
    result = Restored(snapshot=snap["id"], taken=snap["at"])
    live_journal, live_keys, live_head = _live(snap["at"])
    try:
        backed = keys.read_snapshot()
    except BackupError:
        backed = {"keys": [], "journal": []}
    journal = _merge(live_journal, [e for e in backed["journal"] if _at(e) > snap["at"]])
    result.journal_from = [
        name
        for name, part in (("live", live_journal), ("keys snapshot", backed["journal"]))
        if part
    ]
    destroyed = {r for e in journal if e["action"] == "customer_keys_destroyed" for r in e["refs"]}
    key_rows = (
        live_keys
        if live_keys
        else [
            CustomerKey(
                customer_ref=k["customer_ref"],
                master=k["master"],
                wrapped=base64.b64decode(k["wrapped"]),
            )
            for k in backed["keys"]
        ]
    )
    key_rows = [k for k in key_rows if k.customer_ref not in destroyed]

    remove_leftovers()
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH, dir=settings.GALLRA_DATA))
    try:
        restore_database(snap["id"], scratch)
        copy = dump.find_copy(scratch)
        if copy is None:
            raise BackupError(f"snapshot {snap['short_id']} holds no database copy")
        dump.replace_database(copy)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    call_command("migrate", verbosity=0)  # a snapshot from before an upgrade

    with transaction.atomic():
        CustomerKey.objects.all().delete()
        CustomerKey.objects.bulk_create(key_rows)
        result.keys = len(key_rows)
        for entry in journal:
            _replay(entry, snap["short_id"], now, result)
        restored_head = ChainHead.objects.first()
        append(
            "backup_restored",
            actor=actor,
            at=now,
            count=sum(result.replayed.values()),
            data={
                "snapshot": snap["id"],
                "taken": snap["at"].isoformat(),
                "replayed": dict(result.replayed),
                "journal_from": result.journal_from,
                "customer_keys": result.keys,
                "entries_lost": (live_head[0] - restored_head.seq) if live_head else None,
                "live_head_hash": live_head[1] if live_head else None,
            },
        )
    # What gallra deleted in the provider's datasets and mailboxes since the snapshot: a folder
    # restored with it (a Maildir under /home, a SQLite file) has it back; carry it out again.
    result.places = _replay_places(journal, now, actor)
    return result


def _replay_places(journal: list[dict], now: datetime, actor: str) -> dict[str, dict]:
    policy = current_policy()
    out = {}
    for place in replay.places(policy):
        entries = [_entry(e) for e in journal if _place_of(e) == place]
        if entries:
            out[place] = owner_of(policy, place).replay(
                policy, place, entries, actor=actor, now=now
            )
    return out


def _place_of(entry: dict) -> str | None:
    data = entry.get("data") or {}
    if entry["action"] not in replay.ACTIONS or "replayed" in data:
        return None
    return data.get("store") or data.get("mailbox")


def _entry(e: dict) -> Entry:
    """A journal entry as the stores read evidence (not saved: the journal is its record)."""
    return Entry(
        seq=e["seq"],
        at=_at(e),
        actor=e["actor"],
        action=e["action"],
        rule=e["rule"],
        record_type=e["record_type"],
        refs=e["refs"],
        count=e["count"],
        data=e.get("data") or {},
        customers="".join(f"|{c}" for c in e["customers"]) + ("|" if e["customers"] else ""),
    )


def _live(since: datetime) -> tuple[list[dict], list[CustomerKey], tuple[int, str] | None]:
    """The live journal, keys and evidence head; empty when this database is new or broken."""
    try:
        with transaction.atomic():
            head = ChainHead.objects.first()
            return (
                keys.journal(since),
                list(CustomerKey.objects.all()),
                (head.seq, head.hash) if head else None,
            )
    except DatabaseError:
        return [], [], None


def _at(entry: dict) -> datetime:
    return datetime.fromisoformat(entry["at"])


def _merge(*journals: list[dict]) -> list[dict]:
    seen, out = set(), []
    for entry in sorted((e for j in journals for e in j), key=_at):
        key = (entry["action"], entry["at"], entry["record_type"], tuple(entry["refs"]))
        if key not in seen:
            seen.add(key)
            out.append(entry)
    return out


def _bury_again(entry: dict, data: dict) -> None:
    day = datetime.fromisoformat(entry["at"]).date()
    if entry["action"] == "subject.erase":
        rule, request = tombstones.ERASURE, data.get("request", "")
    else:
        rule, request = entry["rule"], ""
        day = date.fromisoformat(data.get("deletion_date", day.isoformat()))
    tombstones.bury(
        entry["record_type"],
        entry["refs"],
        rule=rule,
        on=day,
        now=datetime.fromisoformat(entry["at"]),
        request=request,
    )


def _replay(entry: dict, short: str, now: datetime, result: Restored) -> None:
    action, record_type, refs = entry["action"], entry["record_type"], entry["refs"]
    data = entry.get("data") or {}
    if action == "customer_keys_destroyed":
        gone = CustomerKey.objects.filter(customer_ref__in=refs).delete()[0]  # already left out
    elif action == "login_keys_destroyed":
        month = date.fromisoformat(data["month"] + "-01")
        gone = SealingKey.objects.filter(month=month).delete()[0]
        gone += MonthKey.objects.filter(month=month).delete()[0]
    elif record_type == "login_event":
        gone = LoginEvent.objects.filter(at__lt=datetime.fromisoformat(data["before"])).delete()[0]
    elif record_type in BY_RECORD_TYPE:
        gone = BY_RECORD_TYPE[record_type].objects.filter(ref__in=refs).delete()[0]
        _bury_again(entry, data)  # the snapshot predates their memory: no import brings them back
    else:  # a dataset's rows, a mailbox's messages: their proof stays (replayed there below)
        gone = 0
    result.replayed[f"{action}/{record_type}"] += len(refs) or entry["count"]
    append(
        action,
        actor=entry["actor"],
        at=now,
        rule=entry["rule"],
        record_type=record_type,
        refs=refs,
        customers=entry["customers"],
        count=entry["count"],
        data={
            **data,
            "replayed": {
                "snapshot": short,
                "seq": entry["seq"],
                "at": entry["at"],
                "removed_again": gone,
            },
        },
    )
