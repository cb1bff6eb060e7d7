"""`gallra serve` backs up and drills once a day; a failure is mailed to who answers for it."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User

from gallra.backups.models import BackupRun
from gallra.instance import schedule

pytestmark = pytest.mark.django_db(transaction=True)  # the online backup needs no open transaction
DAY = datetime(2026, 11, 25, 2, 5, tzinfo=UTC)  # 03:05 in Stockholm


def at(instant: datetime):
    return mock.patch("django.utils.timezone.now", return_value=instant)


def test_the_daily_run_backs_up_and_verifies_once(repository, monkeypatch):
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "03:00")
    with at(DAY):
        assert schedule.run_if_due() is True
    runs = {(r.kind, r.ok) for r in BackupRun.objects.all()}
    assert runs == {("backup", True), ("verify", True)}
    with at(DAY + timedelta(hours=2)):
        assert schedule.run_if_due() is False
    assert BackupRun.objects.count() == 2


def test_a_failed_backup_is_mailed_and_tried_again_an_hour_later(
    repository, monkeypatch, settings, tmp_path, smtp
):
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "03:00")
    technician = User.objects.create(username="tekniker", email="drift@redcloud.example")
    technician.groups.add(Group.objects.create(name="technician"))  # responsibilities.backups
    wrong = tmp_path / "wrong"
    wrong.write_text("fel\n")
    settings.GALLRA_BACKUP_PASSWORD_FILE = str(wrong)
    with at(DAY):
        schedule.run_if_due()
    # The backup fails, and the drill after it (the next job of the day still runs) cannot
    # read the repository either: one mail each, to who answers for backups.
    [(to, subject, body), (to_drill, drill_subject, drill_body)] = smtp.messages
    assert to == to_drill == ["drift@redcloud.example"]
    assert "Säkerhetskopieringen misslyckades" in subject
    assert "the repository password is wrong" in body
    assert "Kontrollen av säkerhetskopian misslyckades" in drill_subject
    assert "the repository password is wrong" in drill_body
    with at(DAY + timedelta(minutes=30)):
        assert schedule.run_if_due() is False  # not every five minutes
    with at(DAY + timedelta(minutes=70)):
        assert schedule.run_if_due() is True
    assert BackupRun.objects.filter(kind="backup", ok=False).count() == 2
    assert BackupRun.objects.filter(kind="verify", ok=False).count() == 2
