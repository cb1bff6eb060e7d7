"""`gallra jobs list [--format json]`, `gallra jobs daily`: today's jobs, and the day's run now.

`list` shows each daily job's run today (done, skipped, failed, running), and on PostgreSQL
the queue: jobs waiting, running and failed, and the workers that are alive. `daily` runs
today's due jobs now rather than at GALLRA_ENFORCE_TIME: on PostgreSQL it queues the day's
run for a worker, on SQLite it runs it in this process. A job done today is not done again.
See docs/jobs.md.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra import background
from gallra.instance import jobs
from gallra.instance.schedule import JOBS, run_if_due, today_failures
from gallra.policy.command import FOUND, GallraCommand
from gallra.retention.models import DailyRun


class Command(GallraCommand):
    help = gettext_lazy("Show today's jobs and the queue, or run the day's jobs now.")
    examples = ("gallra jobs list", "gallra jobs list --format json", "gallra jobs daily")

    def add_arguments(self, parser):
        listed = self.action(
            parser,
            "list",
            self.list,
            help=gettext_lazy("Today's daily jobs and, on PostgreSQL, the queue and its workers."),
        )
        self.add_format(listed)
        self.action(
            parser,
            "daily",
            self.daily,
            help=gettext_lazy("Run today's due jobs now (queued for a worker on PostgreSQL)."),
        )

    def list(self, options: dict) -> None:
        today = timezone.localdate()
        runs = {r.job: r for r in DailyRun.objects.filter(day=today).order_by("started", "pk")}
        days = [
            {
                "job": job.name,
                "state": _state(job, runs.get(job.name)),
                "started": runs[job.name].started.isoformat() if job.name in runs else None,
            }
            for job in JOBS
        ]
        queue = _queue() if jobs.queued() else None
        if options["format"] == "json":
            self.write_json({"day": today.isoformat(), "daily": days, "queue": queue})
            return
        self.stdout.write(_("Daily jobs on %(day)s:") % {"day": today.isoformat()})
        for row in days:
            self.stdout.write(f"  {row['job']:<10} {row['state']}")
        if queue is None:
            self.stdout.write(_("No queue: `gallra serve` runs the jobs itself (SQLite)."))
            return
        self.stdout.write(_("Workers alive: %(n)s") % {"n": queue["workers"]})
        for row in queue["jobs"]:
            self.stdout.write(f"  {row['task']:<24} {row['status']:<10} {row['count']}")

    def daily(self, options: dict) -> None:
        if jobs.queued():
            background.defer("gallra.daily", queueing_lock="daily-now", any_time=True)
            self.stdout.write(_("The day's run is queued: a worker does today's due jobs now."))
            return
        if not run_if_due(any_time=True):
            self.stdout.write(_("Nothing to do: today's jobs are done, or running elsewhere."))
            return
        if today_failures(timezone.localdate()):
            self.fail(_("a daily job failed: see `gallra jobs list`"), FOUND)
        self.stdout.write(_("Today's due jobs ran."))


def _state(job, run: DailyRun | None) -> str:
    if run is not None:
        return run.outcome or "running"
    return "not yet" if job.wanted() else "not configured"


def _queue() -> dict:
    """What waits, runs and failed, per task, and how many workers sent a heartbeat lately."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT task_name, status, count(*) FROM procrastinate_jobs "
            "WHERE status IN ('todo', 'doing', 'failed') GROUP BY 1, 2 ORDER BY 1, 2"
        )
        rows = cursor.fetchall()
    return {
        "workers": jobs.alive_workers(),
        "jobs": [{"task": t, "status": s, "count": n} for t, s, n in rows],
    }
