"""`gallra serve` syncs every day before it enforces (issue 17, item 3), only when the policy
declares sources, and not again on a day cron has synced."""

from __future__ import annotations

from datetime import UTC, date, datetime
from unittest import mock

import pytest
from django.core.management import call_command

from gallra.instance import schedule
from gallra.registry.importing import import_document
from gallra.registry.models import Account
from gallra.retention.models import DailyRun
from gallra.sync.tests.conftest import with_sources
from gallra.sync.tests.test_accounts import REGISTRY

DAY = date(2026, 11, 25)


def at(stockholm_hour: int):
    instant = datetime(2026, 11, 25, stockholm_hour - 1, 5, tzinfo=UTC)  # Stockholm: UTC+1
    return mock.patch("django.utils.timezone.now", return_value=instant)


def jobs() -> list[tuple[str, str]]:
    return list(DailyRun.objects.order_by("pk").values_list("job", "outcome"))


@pytest.fixture
def directory(db, slapd, tmp_path, monkeypatch):
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "03:00")
    import_document(REGISTRY)
    with_sources(tmp_path, monkeypatch, slapd.source())
    slapd.add("anna", 1001)
    slapd.add("bo", 1002)
    call_command("sync", "--at", "2026-11-01", stdout=mock.Mock(), stderr=mock.Mock())
    slapd.remove("bo")
    return slapd


def test_the_daily_run_syncs_first_then_enforces(directory):
    with at(3):
        assert schedule.run_if_due() is True
    assert [job for job, _ in jobs()][:2] == ["sync", "enforce"]
    assert dict(jobs())["sync"] == "ok"
    assert Account.objects.get(ref="A-bo").closed == DAY
    with at(4):
        schedule.run_if_due()
    assert [job for job, _ in jobs()].count("sync") == 1


def test_a_day_cron_synced_is_not_synced_again(directory):
    with at(2):
        call_command("sync", stdout=mock.Mock(), stderr=mock.Mock())
    with at(3):
        schedule.run_if_due()
    assert "sync" not in dict(jobs()) and "enforce" in dict(jobs())


def test_a_source_that_is_down_fails_the_job_and_the_others_still_run(directory, caplog):
    directory.stop()
    with at(3):
        schedule.run_if_due()
    outcomes = dict(jobs())
    assert outcomes["sync"] == "failed" and outcomes["enforce"] in ("ok", "skipped")
    problem = DailyRun.objects.get(job="sync").problem
    assert problem.startswith(f"source katalog (LDAP {directory.url}")
    assert Account.objects.get(ref="A-bo").closed is None


def test_without_sources_there_is_no_sync_job(db, monkeypatch):
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "03:00")
    with at(3):
        schedule.run_if_due()
    assert "sync" not in dict(jobs()) and "enforce" in dict(jobs())
