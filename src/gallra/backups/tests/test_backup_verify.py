"""The restore drill: window, `restic check`, and the database as it was backed up."""

from datetime import UTC, datetime, timedelta

import pytest

from gallra.backups.models import BackupRun
from gallra.backups.restic import BackupError
from gallra.backups.runs import run_backup, verify
from gallra.evidence.models import Entry

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db(transaction=True)  # the online backup needs no open transaction


def test_a_restore_of_the_newest_snapshot_gives_back_the_database(repository, policy):
    taken = run_backup(policy, now=NOW, at=NOW)
    record = verify(policy, now=NOW + timedelta(hours=1))
    assert record.ok and record.snapshot == taken.snapshot
    assert record.summary["checksum"] == taken.summary["checksum"]
    assert record.summary["tables"]["backups_backuprun"] == 1  # the run itself, begun before
    entry = Entry.objects.get(action="backup_verified")
    assert entry.data == {"snapshot": taken.snapshot, "problems": []}


def test_a_snapshot_past_the_window_fails_the_check(repository, policy):
    eight_days_ago = NOW - timedelta(days=8)
    old = run_backup(policy, now=eight_days_ago, at=eight_days_ago)
    with pytest.raises(BackupError, match="snapshots older than P7D: " + old.snapshot[:8]):
        verify(policy, now=NOW)
    record = BackupRun.objects.filter(kind="verify").get()
    assert not record.ok and old.snapshot[:8] in record.problem
    assert Entry.objects.filter(action="backup_verify_failed").count() == 1


def test_a_damaged_repository_fails_the_check(repository, policy):
    run_backup(policy, now=NOW, at=NOW)
    packs = sorted(p for p in (repository / "data").rglob("*") if p.is_file())
    packs[0].write_bytes(b"not what restic wrote")
    with pytest.raises(BackupError, match="restic check failed"):
        verify(policy, now=NOW)
