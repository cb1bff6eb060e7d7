"""The job queue on PostgreSQL: Procrastinate, in the database gallra already has (docs/jobs.md).

`gallra serve` answers the web and puts work here; `gallra worker` does it, as many workers as
the provider runs, on one machine or several. Why Procrastinate: it needs nothing but the
PostgreSQL gallra stands on (no broker to run, back up or secure), workers wake on LISTEN/NOTIFY,
and what it promises is what the daily run needs:

* The day's run is a periodic job, deferred once per tick however many workers defer it (a
  unique row per tick), and its `lock` lets one run at a time: each job of the day runs once
  (DailyRun, schedule.py, records which are done).
* A worker that dies (SIGKILL, the machine gone) stops its heartbeat; after STALLED_AFTER
  seconds `retry_stalled`, on any live worker, puts its job back, and the next run carries the
  interrupted job on (schedule.run_job), which resumes rather than repeats (enforce finishes
  its unfinished run; a backup reports the killed one and makes the snapshot).
* Mail waits in the outbox as before; a queued mail wakes a worker to deliver it.
* What staff start from the admin (an erasure, an export) is a job too (gallra/background.py).

On SQLite (the embedded default) there is no queue: `gallra serve` runs the same work in its
own threads, as it always has.
"""

from __future__ import annotations

import logging
import os

from django.conf import settings
from django.db import connection
from procrastinate.contrib.django import app

from gallra.background import defer, fresh

log = logging.getLogger(__name__)

# Seconds without a heartbeat before a worker counts as dead and its jobs go to another: long
# enough for a busy machine's pauses, short enough that a killed job waits little.
STALLED_AFTER = float(os.environ.get("GALLRA_WORKER_STALLED_AFTER", "30"))
HEARTBEAT_EVERY = STALLED_AFTER / 6
KEEP_FINISHED_HOURS = 24 * 7  # failed jobs stay this long for `gallra jobs list`


def queued() -> bool:
    """Whether this instance runs its jobs on the queue (PostgreSQL) or in `serve` (SQLite)."""
    return settings.GALLRA_JOB_QUEUE


@app.periodic(cron="*/5 * * * *", periodic_id="daily")
@app.task(name="gallra.daily", lock="daily", queueing_lock="daily")
def daily(timestamp: int = 0, any_time: bool = False) -> None:
    """Today's jobs that are due (instance/schedule.py); every five minutes, as in `serve`.
    `any_time`: before GALLRA_ENFORCE_TIME too (`gallra jobs daily`)."""
    from gallra.instance.schedule import run_if_due

    fresh(lambda: run_if_due(any_time=any_time, wait=True))


@app.periodic(cron="* * * * *", periodic_id="mail")
@app.task(name="gallra.deliver_mail", queueing_lock="mail")
def deliver_mail(timestamp: int = 0) -> None:
    """Send what the outbox holds; every minute for retries, and at once when mail is queued."""
    from gallra.outbox.delivery import deliver

    fresh(deliver)


@app.periodic(cron="* * * * * */10", periodic_id="stalled")
@app.task(name="gallra.retry_stalled", queueing_lock="stalled", pass_context=True)
async def retry_stalled(context, timestamp: int = 0) -> None:
    """Put back the jobs of workers whose heartbeat stopped, for a live worker to carry on."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_AFTER):
        log.warning("gallra: job %s (%s) lost its worker; retrying it", job.id, job.task_name)
        await manager.retry_job(job)


@app.periodic(cron="17 4 * * *", periodic_id="tidy")
@app.task(name="gallra.tidy_queue", queueing_lock="tidy", pass_context=True)
async def tidy_queue(context, timestamp: int = 0) -> None:
    """Finished jobs leave the queue's tables after a week (what they did is in the evidence)."""
    await context.app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS, include_failed=True)


def wake_mail(**_signal) -> None:
    """A mail was queued: a worker delivers it now, not at the next minute."""
    defer("gallra.deliver_mail", queueing_lock="mail")


def alive_workers() -> int:
    """Workers whose heartbeat is recent (`gallra check`, `gallra jobs list`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_workers "
            "WHERE last_heartbeat > now() - make_interval(secs => %s)",
            [STALLED_AFTER],
        )
        return cursor.fetchone()[0]
