"""A backup that cannot reach its repository, or is killed halfway, leaves the earlier
snapshots as they were, says why, and leaves no plain database copy behind."""

import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, User

from gallra.backups.restic import BackupError, restic
from gallra.backups.runs import run_backup, snapshots, verify
from gallra.config import DEFAULT_POLICY
from gallra.policy.loading import current_policy
from gallra.registry.models import Customer, TechnicalDocument

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db(transaction=True)  # the online backup needs no open transaction


@pytest.fixture
def small_disk(tmp_path):
    """A 512 KiB tmpfs: too small for the database copy (the tests run as root)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], check=True)  # noqa: S603,S607
    yield mount
    subprocess.run(["umount", str(mount)], check=True)  # noqa: S603,S607


def make_fault(fault, settings, tmp_path, monkeypatch, small_disk):
    if fault == "restic missing":
        monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    elif fault == "repository unreachable":
        settings.GALLRA_BACKUP_REPOSITORY = "sftp://backup@127.0.0.1:9//srv/restic"  # no server
        monkeypatch.setenv("HOME", str(tmp_path))  # no ssh configuration of this machine's user
    else:
        settings.GALLRA_DATA = small_disk  # where the database copy is made


@pytest.mark.parametrize(
    "fault, says",
    [
        ("restic missing", "restic is not installed"),
        ("repository unreachable", "restic backup failed|no restic repository"),
        ("disk full", "the database could not be copied into .*small-disk.*(full|No space left)"),
    ],
)
def test_each_fault_says_why_alerts_and_keeps_the_earlier_snapshots(
    fault, says, repository, policy, settings, tmp_path, monkeypatch, smtp, small_disk
):
    technician = User.objects.create(username="tekniker", email="drift@redcloud.example")
    technician.groups.add(Group.objects.create(name="technician"))  # responsibilities.backups
    customer = Customer.objects.create(ref="C-1", name="Kund AB")
    for i in range(8):  # 2 MiB of sealed documents: more than the small disk holds
        TechnicalDocument.objects.create(
            ref=f"D-{i}",
            customer=customer,
            title="avbild",
            created=NOW.date(),
            content=os.urandom(256 << 10),
        )
    [before] = [run_backup(policy, now=NOW, at=NOW).snapshot]
    repository_setting, data = settings.GALLRA_BACKUP_REPOSITORY, settings.GALLRA_DATA

    make_fault(fault, settings, tmp_path, monkeypatch, small_disk)
    with pytest.raises(BackupError, match=says):
        run_backup(policy, now=NOW)

    [(to, subject, body)] = smtp.messages
    assert to == ["drift@redcloud.example"] and "Säkerhetskopieringen misslyckades" in subject
    assert re.search(says, body)
    assert not [p for p in small_disk.iterdir() if p.name.startswith("gallra-backup-")]
    monkeypatch.undo()
    settings.GALLRA_BACKUP_REPOSITORY, settings.GALLRA_DATA = repository_setting, data
    assert [s["id"] for s in snapshots()] == [before]
    assert restic("check", check=False).returncode == 0


def test_a_repository_that_is_not_there_fails_clearly(repository, policy, settings, tmp_path):
    run_backup(policy, now=NOW, at=NOW)
    settings.GALLRA_BACKUP_REPOSITORY = str(tmp_path / "unmounted-disk" / "repository")
    with pytest.raises(BackupError, match="no restic repository at .*unmounted-disk"):
        run_backup(policy, now=NOW)
    settings.GALLRA_BACKUP_REPOSITORY = str(repository)
    assert len(snapshots()) == 1


def test_a_backup_killed_halfway_leaves_the_earlier_snapshot_and_the_next_run_works(
    repository, settings, tmp_path, smtp
):
    """The commands as a provider runs them, on a file database; the run is killed with
    SIGKILL (gallra and restic together) while restic is writing. The next run reports it."""
    data = tmp_path / "instance"
    big = tmp_path / "big"
    big.mkdir()
    (big / "disk.img").write_bytes(os.urandom(16 << 20))
    policy_file = tmp_path / "policy.toml"
    declared = f'\ncountries = ["SE"]\ndirectories = ["{big}"]\n'  # in [backups]
    policy_file.write_text(DEFAULT_POLICY.read_text().replace('\ncountries = ["SE"]\n', declared))
    env = {
        **os.environ,
        "GALLRA_DATA": str(data),
        "GALLRA_POLICY": str(policy_file),
        "GALLRA_BACKUP_REPOSITORY": settings.GALLRA_BACKUP_REPOSITORY,
        "GALLRA_BACKUP_PASSWORD_FILE": settings.GALLRA_BACKUP_PASSWORD_FILE,
        "GALLRA_SMTP_HOST": "127.0.0.1",
        "GALLRA_SMTP_PORT": str(settings.EMAIL_PORT),
    }
    env.pop("GALLRA_DATABASE_URL", None)
    gallra = [sys.executable, "-m", "gallra"]

    def run(*args):
        return subprocess.run(  # noqa: S603
            gallra + list(args),
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    assert run("init").returncode == 0
    staff = (
        "from django.contrib.auth.models import Group, User; "
        "u = User.objects.create(username='tekniker', email='drift@redcloud.example'); "
        "u.groups.add(Group.objects.get_or_create(name='technician')[0])"
    )
    assert run("django", "shell", "-c", staff).returncode == 0
    first = run("backup", "run")
    assert first.returncode == 0, first.stderr
    [before] = snapshots()

    with open(big / "more.img", "wb") as f:  # seconds of work: restic is busy when killed
        for _ in range(64):
            f.write(os.urandom(4 << 20))
    killed = subprocess.Popen(  # noqa: S603
        gallra + ["backup", "run"],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _restic_running(killed.pid):
        time.sleep(0.05)
    time.sleep(0.3)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    assert list(data.glob("gallra-backup-*"))  # the plain copy of the database was left ...

    assert [s["id"] for s in snapshots()] == [before["id"]]  # the earlier snapshot is intact
    again = run("backup", "run")
    assert again.returncode == 0, again.stderr  # restic's lock of the dead run is no obstacle
    assert not list(data.glob("gallra-backup-*"))  # ... and the next run removed it
    assert len(snapshots()) == 2
    [(to, subject, body)] = smtp.messages  # the killed run could not say so; the next one did
    assert to == ["drift@redcloud.example"] and "Säkerhetskopieringen misslyckades" in subject
    assert "never finished" in body
    drill = run("backup", "verify")  # restic check needs the repository to itself
    assert drill.returncode == 0, drill.stderr


def _restic_running(parent: int) -> bool:
    """restic backing up (not the snapshot listing the run starts beside the dump)."""
    found = subprocess.run(  # noqa: S603
        ["pgrep", "-s", str(os.getpgid(parent)), "-f", "restic backup"],  # noqa: S603,S607
        capture_output=True,
        check=False,
    )
    return found.returncode == 0


def test_verify_of_an_empty_repository_says_so(repository, policy):
    with pytest.raises(BackupError, match="there is no snapshot to restore"):
        verify(current_policy(), now=NOW)
