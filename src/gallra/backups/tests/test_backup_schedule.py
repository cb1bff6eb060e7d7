"""`gallra serve` backs up and drills once a day; a failure is mailed to who answers for it."""

import socket
from datetime import UTC, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command

from gallra.backups.models import BackupRun
from gallra.instance import schedule
from gallra.outbox.models import Mail

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


def test_a_failure_alert_waits_in_the_outbox_while_the_relay_is_down(
    repository, monkeypatch, settings, tmp_path, smtp
):
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "03:00")
    technician = User.objects.create(username="tekniker", email="drift@redcloud.example")
    technician.groups.add(Group.objects.create(name="technician"))  # responsibilities.backups
    wrong = tmp_path / "wrong"
    wrong.write_text("fel\n")
    settings.GALLRA_BACKUP_PASSWORD_FILE = str(wrong)
    relay = settings.EMAIL_PORT
    with socket.socket() as s:  # a port nothing listens on: the relay is down
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = s.getsockname()[1]
    with at(DAY):
        schedule.run_if_due()
    assert BackupRun.objects.filter(ok=False).count() == 2  # the backup and the drill
    assert sorted(Mail.objects.values_list("kind", flat=True)) == ["backup_alert"] * 2

    settings.EMAIL_PORT = relay  # back: `gallra outbox send` (or gallra serve) delivers them
    with at(DAY + timedelta(minutes=2)):
        call_command("outbox", "send", stdout=StringIO())
    subjects = sorted(subject for _, subject, _ in smtp.messages)
    assert [to for to, _, _ in smtp.messages] == [["drift@redcloud.example"]] * 2
    assert "Kontrollen av säkerhetskopian misslyckades" in subjects[0]
    assert "Säkerhetskopieringen misslyckades" in subjects[1]
    assert not Mail.objects.exists()
