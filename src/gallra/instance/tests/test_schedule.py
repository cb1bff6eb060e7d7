"""`gallra serve` enforces once a day, after the configured time, and never twice a day."""

from datetime import UTC, datetime
from unittest import mock

from django.utils import timezone

from gallra.instance import schedule
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Prospect
from gallra.retention import arming
from gallra.retention.models import EnforcementRun


def at(stockholm_hour: int):
    # November: Stockholm is UTC+1.
    instant = datetime(2026, 11, 25, stockholm_hour - 1, 5, tzinfo=UTC)
    return mock.patch("django.utils.timezone.now", return_value=instant)


def test_daily_run_happens_once_after_its_time(db, monkeypatch):
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "03:00")
    arming.arm(current_policy(), timezone.now(), "vd")  # a person reviewed the plan
    import_document({"prospects": [{"ref": "PR-1", "name": "Gammal", "created": "2026-01-01"}]})
    with at(2):
        assert schedule.run_if_due() is False
    assert Prospect.objects.filter(ref="PR-1").exists()
    with at(3):
        assert schedule.run_if_due() is True
    assert not Prospect.objects.filter(ref="PR-1").exists()
    with at(4):
        assert schedule.run_if_due() is False
    assert EnforcementRun.objects.filter(finished__isnull=False).count() == 1


def test_off_leaves_it_to_cron(db, monkeypatch):
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "off")
    with at(12):
        assert schedule.run_if_due() is False
    assert schedule.start_daily_thread() is None
