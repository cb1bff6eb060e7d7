"""Jobs (docs/jobs.md): the day's run carried on after a kill, one daily run at a time, the
queue on PostgreSQL (mail wakes a worker, `jobs daily` queues the day, `worker --burst`), and
SQLite refusing what needs PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import datetime, time

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from gallra.instance import schedule
from gallra.outbox.mail import Message, queue
from gallra.retention.models import DailyRun

pytestmark = pytest.mark.django_db(transaction=True)
NOW = timezone.make_aware(datetime(2026, 12, 8, 4, 0))


def test_an_interrupted_job_is_carried_on_in_its_own_row(settings):
    settings.GALLRA_BACKUP_REPOSITORY = ""
    killed = DailyRun.objects.create(day=NOW.date(), job="residency", started=NOW)  # no end
    assert schedule.run_if_due(now=NOW, any_time=True)
    runs = list(DailyRun.objects.filter(day=NOW.date(), job="residency"))
    assert [r.pk for r in runs] == [killed.pk]  # one run of the job that day, finished
    assert runs[0].finished is not None and runs[0].outcome == DailyRun.Outcome.OK
    assert not schedule.run_if_due(now=NOW, any_time=True)  # done: not again that day


def test_a_failed_job_waits_an_hour_but_an_interrupted_one_does_not(settings):
    settings.GALLRA_BACKUP_REPOSITORY = ""
    job = next(j for j in schedule.JOBS if j.name == "incidents")
    DailyRun.objects.create(
        day=NOW.date(), job="incidents", started=NOW, finished=NOW, outcome="failed"
    )
    assert not schedule.due(job, NOW)
    DailyRun.objects.all().delete()
    DailyRun.objects.create(day=NOW.date(), job="incidents", started=NOW)
    assert schedule.due(job, NOW)


def test_only_one_daily_run_at_a_time(settings):
    settings.GALLRA_BACKUP_REPOSITORY = ""
    with schedule.one_daily_run() as alone:  # as if another process held it
        assert alone
        if connection.vendor == "postgresql":  # the lock is the session's: ask from another
            assert not _daily_lock_free_elsewhere()
        else:
            with schedule.one_daily_run() as second:
                assert not second
            assert not schedule.run_if_due(now=NOW, any_time=True)
            assert not DailyRun.objects.exists()
    assert schedule.run_if_due(now=NOW, any_time=True)


def _daily_lock_free_elsewhere() -> bool:
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"]
    ) as other:
        free = other.execute(
            "SELECT pg_try_advisory_lock(%s)", [schedule.DAILY_LOCK_KEY]
        ).fetchone()[0]
        if free:
            other.execute("SELECT pg_advisory_unlock(%s)", [schedule.DAILY_LOCK_KEY])
        return free


def test_the_daily_run_waits_for_its_time_unless_asked_now(settings, monkeypatch):
    settings.GALLRA_BACKUP_REPOSITORY = ""
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "05:00")
    early = timezone.make_aware(datetime.combine(NOW.date(), time(4, 0)))
    assert not schedule.run_if_due(now=early)
    assert schedule.run_if_due(now=early, any_time=True)


# -- SQLite: what needs PostgreSQL is refused, by name ------------------------------------------


@pytest.mark.skipif(settings.GALLRA_JOB_QUEUE, reason="SQLite's refusals; PostgreSQL has a queue")
def test_sqlite_refuses_a_worker_and_several_web_processes():
    with pytest.raises(CommandError) as refused:
        call_command("worker", stdout=io.StringIO())
    assert refused.value.returncode == 2 and "PostgreSQL" in str(refused.value)
    with pytest.raises(CommandError) as refused:
        call_command("serve", "--workers", "2", stdout=io.StringIO())
    assert refused.value.returncode == 2 and "PostgreSQL" in str(refused.value)


@pytest.mark.skipif(settings.GALLRA_JOB_QUEUE, reason="SQLite runs the day in the command")
def test_jobs_daily_on_sqlite_runs_the_day_here(settings):
    settings.GALLRA_BACKUP_REPOSITORY = ""
    out = io.StringIO()
    call_command("jobs", "daily", stdout=out)
    listed = io.StringIO()
    call_command("jobs", "list", "--format", "json", stdout=listed)
    found = json.loads(listed.getvalue())
    states = {row["job"]: row["state"] for row in found["daily"]}
    assert states["residency"] == "ok" and states["backup"] == "not configured"
    assert found["queue"] is None


# -- PostgreSQL: the queue ------------------------------------------------------------------------


queue_only = pytest.mark.skipif(not settings.GALLRA_JOB_QUEUE, reason="the queue is PostgreSQL's")


def _waiting(task: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s AND status = 'todo'",
            [task],
        )
        return cursor.fetchone()[0]


@queue_only
def test_a_queued_mail_wakes_a_worker_that_delivers_it(smtp):
    now = timezone.now()
    queue(Message("Påminnelse", "Hej", ("lisa@redcloud.example",)), kind="job_failed", now=now)
    queue(Message("Till", "Två", ("bo@redcloud.example",)), kind="job_failed", now=now)
    assert _waiting("gallra.deliver_mail") == 1  # one delivery job for both
    call_command("worker", "--burst", stdout=io.StringIO())
    assert sorted(subject for _to, subject, _body in smtp.messages) == ["Påminnelse", "Till"]
    assert _waiting("gallra.deliver_mail") == 0


@queue_only
def test_jobs_daily_queues_the_day_for_a_worker(settings):
    settings.GALLRA_BACKUP_REPOSITORY = ""
    call_command("jobs", "daily", stdout=io.StringIO())
    call_command("jobs", "daily", stdout=io.StringIO())  # pressed twice: one job waits
    assert _waiting("gallra.daily") == 1
    assert not DailyRun.objects.exists()  # nothing done in the command itself
    call_command("worker", "--burst", stdout=io.StringIO())
    done = set(DailyRun.objects.filter(outcome="ok").values_list("job", flat=True))
    assert {"tasks", "residency", "incidents"} <= done
    listed = io.StringIO()
    call_command("jobs", "list", "--format", "json", stdout=listed)
    assert json.loads(listed.getvalue())["queue"]["jobs"] == []  # nothing left waiting
