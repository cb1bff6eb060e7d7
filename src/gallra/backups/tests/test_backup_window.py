"""No snapshot outlives the window counted from now, and what it held is gone from the files."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from gallra.backups.restic import BackupError, restic
from gallra.backups.runs import run_backup, snapshots
from gallra.evidence.models import Entry

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


def blobs_text() -> bytes:
    """Every data blob in the repository, decrypted: what a restore could ever give back."""
    listed = restic("list", "blobs").stdout.split()
    ids = [listed[i + 1] for i in range(0, len(listed), 2) if listed[i] == "data"]
    return b"".join(restic("cat", "blob", blob_id, binary=True).stdout for blob_id in ids)


@pytest.mark.django_db(
    transaction=True
)  # the online backup reads the database from outside a transaction
def test_backups_stopped_for_ten_days_leave_nothing_older_than_seven(repository, homes, policy):
    markers = []
    for days_ago in range(20, 11, -2):  # backups 20, 18, 16, 14 and 12 days ago
        for old in (homes / "anna").glob("*.txt"):
            old.unlink()  # yesterday's file changed away
        marker = f"MARKER-{days_ago}-{secrets.token_hex(6)}"
        markers.append(marker)
        (homes / "anna" / f"day-{days_ago}.txt").write_text(f"anteckning {marker}\n")
        day = NOW - timedelta(days=days_ago)
        run_backup(policy, now=day, at=day)
    assert len(snapshots()) == 4  # 18 to 12 days ago: within a week of the last simulated day
    assert markers[-1].encode() in blobs_text()

    # Backups stop for ten days; the files are deleted meanwhile. Then a run, now:
    for old in (homes / "anna").glob("*.txt"):
        old.unlink()
    record = run_backup(policy, now=NOW, at=NOW)
    remaining = snapshots()
    assert [s["id"] for s in remaining] == [record.snapshot]
    assert all(s["at"] >= NOW - timedelta(days=7) for s in remaining)
    assert len(record.forgotten) == 4
    text = blobs_text()
    assert not [m for m in markers if m.encode() in text]  # pruned to nothing
    entry = Entry.objects.filter(action="backup").last()
    assert entry.data["forgotten"] == record.forgotten


@pytest.mark.django_db(
    transaction=True
)  # the online backup reads the database from outside a transaction
def test_the_repository_files_hold_no_plain_personal_data(repository, homes, policy):
    secret = "Anna Andersson 19811218-9876 anna.andersson@kund.example"
    (homes / "anna" / "kontakt.txt").write_text(secret)
    run_backup(policy, now=NOW, at=NOW)
    assert secret.encode() in blobs_text()  # it is in the backup ...
    raw = b"".join(p.read_bytes() for p in repository.rglob("*") if p.is_file())
    for part in ("Andersson", "19811218-9876", "anna.andersson@kund.example"):
        assert part.encode() not in raw  # ... but only encrypted


@pytest.mark.django_db(
    transaction=True
)  # the online backup reads the database from outside a transaction
def test_a_wrong_password_or_no_restic_fails_clearly_and_keeps_the_snapshots(
    repository, policy, settings, tmp_path, monkeypatch
):
    run_backup(policy, now=NOW, at=NOW)
    wrong = tmp_path / "wrong"
    wrong.write_text("fel lösenord\n")
    right = settings.GALLRA_BACKUP_PASSWORD_FILE
    settings.GALLRA_BACKUP_PASSWORD_FILE = str(wrong)
    with pytest.raises(BackupError, match="the repository password is wrong"):
        run_backup(policy, now=NOW)
    settings.GALLRA_BACKUP_PASSWORD_FILE = right
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BackupError, match="restic is not installed"):
        run_backup(policy, now=NOW)
    monkeypatch.undo()
    assert len(snapshots()) == 1
    failed = Entry.objects.filter(action="backup_failed")
    assert [e.data["problem"] for e in failed] == [
        "the repository password is wrong (GALLRA_BACKUP_PASSWORD_FILE)",
        "restic is not installed (Debian: apt-get install restic)",
    ]


def test_the_password_is_never_on_the_command_line(repository, settings):
    """restic gets the password file through its environment only."""
    done = restic("snapshots")
    assert settings.GALLRA_BACKUP_PASSWORD_FILE not in " ".join(done.args)
    assert "korrekt" not in " ".join(done.args)
