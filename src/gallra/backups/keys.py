"""The customer keys' own backup, and the journal that a restore replays (docs/backups.md).

The database snapshot leaves the customers' data keys out (crypto.py). So that a lost server
can still be restored, each backup run also makes a small snapshot tagged `gallra-keys`
holding the wrapped keys and the deletion journal: every deletion, erasure and key
destruction in the evidence log within the window, by ref. When a key is destroyed a new keys
snapshot is made at once and every older one is forgotten and pruned: from that moment the
key is in no backup, and the customer's documents and credentials in every database snapshot
are ciphertext that nothing opens. The daily run does the same, should that step have failed.
A run whose keys and journal are those of the newest keys snapshot (its tag says so) makes no
new one while that snapshot is inside the window and younger than the last destroyed key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import shutil
from datetime import UTC, datetime, timedelta

from django.conf import settings

from gallra.backups.restic import BackupError, restic
from gallra.evidence.models import Entry
from gallra.registry.models import CustomerKey

TAG = "gallra-keys"
FILE = "keys.json"
JOURNAL_DAYS = 62  # comfortably more than any backup window
# What a restore must do again: the evidence actions that removed something.
REPLAYED = ("delete", "subject.erase", "customer_keys_destroyed", "login_keys_destroyed")
log = logging.getLogger(__name__)


def journal(since: datetime) -> list[dict]:
    """Deletions, erasures and key destructions recorded after `since`, oldest first."""
    entries = Entry.objects.filter(action__in=REPLAYED, at__gt=since).order_by("seq")
    return [
        {
            "seq": e.seq,
            "at": e.at.astimezone(UTC).isoformat(),
            "action": e.action,
            "actor": e.actor,
            "rule": e.rule,
            "record_type": e.record_type,
            "refs": e.refs,
            "customers": [c for c in e.customers.split("|") if c],
            "count": e.count,
            "data": e.data,
        }
        for e in entries
    ]


def content(now: datetime) -> dict:
    keys = [
        {"customer_ref": ref, "master": master, "wrapped": base64.b64encode(bytes(w)).decode()}
        for ref, master, w in CustomerKey.objects.order_by("pk").values_list(
            "customer_ref", "master", "wrapped"
        )
    ]
    return {
        "made": now.isoformat(),
        "keys": keys,
        "journal": journal(now - timedelta(days=JOURNAL_DAYS)),
    }


def snapshots() -> list[dict]:
    from gallra.backups import runs

    return runs.snapshots(TAG)


def digest(held: dict) -> str:
    """The tag naming what a keys snapshot holds (its time aside)."""
    same = json.dumps({k: v for k, v in held.items() if k != "made"}, sort_keys=True)
    return "sha256-" + hashlib.sha256(same.encode()).hexdigest()


def unchanged(found: list[dict], held: dict, limit: datetime) -> str:
    """The id of the newest keys snapshot when it holds `held` already and may stay (taken
    after `limit`, the window's cutoff, and after the last destroyed key); else ''."""
    if not found or digest(held) not in (found[-1].get("tags") or []):
        return ""
    destroyed = last_destruction()
    newest = found[-1]
    if newest["at"] < limit or (destroyed is not None and newest["at"] < destroyed):
        return ""
    return newest["id"]


def backup_keys(now: datetime, at: datetime | None = None, held: dict | None = None) -> str:
    """A new keys snapshot (of `held`, read now when not given); returns its (short) id."""
    held = content(now) if held is None else held
    folder = settings.GALLRA_DATA / "gallra-backup-keys"  # the same path every time
    try:
        path = folder / "keys"
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        (path / FILE).write_text(json.dumps(held))
        args = ["backup", "--tag", TAG, "--tag", digest(held), "--host", "gallra"]
        if at is not None:
            args += ["--time", at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")]
        result = restic(*args, str(path), json_output=True)
        return (result or {}).get("snapshot_id", "")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def last_destruction() -> datetime | None:
    entry = Entry.objects.filter(action="customer_keys_destroyed").order_by("-seq").first()
    return entry.at if entry else None


def expired(found: list[dict], limit: datetime, newest: str) -> list[str]:
    """Keys snapshots past the window, or taken before a key was destroyed (but the newest)."""
    destroyed = last_destruction()
    if destroyed is not None:
        limit = max(limit, destroyed)
    return [s["id"] for s in found if s["at"] < limit and not s["id"].startswith(newest)]


def after_destruction(now: datetime, **signal) -> None:
    """Right after keys are destroyed: a fresh keys snapshot, every other one gone."""
    if not settings.GALLRA_BACKUP_REPOSITORY:
        return
    from gallra.backups.runs import forget, lock

    try:
        with lock():
            newest = backup_keys(now, at=now)
            forget([s["id"] for s in snapshots() if not s["id"].startswith(newest)])
    except BackupError:  # the daily run forgets them, since they are older than the destruction
        log.exception("gallra: the keys backup could not be renewed after a key was destroyed")


def read_snapshot(snapshot: str = "latest") -> dict:
    """The content of a keys snapshot (`restic dump`)."""
    if snapshot == "latest":
        found = snapshots()
        if not found:
            raise BackupError("there is no keys snapshot in the repository")
        snapshot = found[-1]["id"]
    done = restic("dump", snapshot, f"/{FILE}", check=False)
    if done.returncode != 0:  # restic stores the folder's absolute path
        files = restic("ls", snapshot, json_output=False).stdout.splitlines()
        path = next((f for f in files if f.endswith("/" + FILE)), None)
        if path is None:
            raise BackupError(f"keys snapshot {snapshot[:8]} holds no {FILE}")
        done = restic("dump", snapshot, path)
    return json.loads(done.stdout)
