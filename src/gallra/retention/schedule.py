"""The daily run inside `gallra serve`: enforce, task reminders, and the backup with its
restore drill (when GALLRA_BACKUP_REPOSITORY is set), once a day.

A small installation has no cron to configure: `serve` checks every few minutes whether
today's run is done, and does it after the configured time (GALLRA_ENFORCE_TIME, default
03:00 Europe/Stockholm; "off" to leave it to cron). Running `gallra enforce` from cron
instead is just as good: a day that already has a finished run is not run again.
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import time, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from gallra.backups.models import BackupRun
from gallra.backups.restic import BackupError
from gallra.backups.runs import run_backup, verify
from gallra.incidents.reminders import remind as remind_incidents
from gallra.policy.loading import current_policy
from gallra.residency.places import check_and_record
from gallra.retention.enforcement import enforce
from gallra.retention.models import EnforcementRun
from gallra.retention.tasks import remind

log = logging.getLogger(__name__)
CHECK_EVERY = 300  # seconds


def daily_time() -> time | None:
    value = os.environ.get("GALLRA_ENFORCE_TIME", "03:00")
    return None if value == "off" else time.fromisoformat(value)


def run_if_due() -> bool:
    """Run today's enforcement and reminders unless done already; True when it ran."""
    start = daily_time()
    now = timezone.localtime()
    if start is None or now.time() < start:
        return False
    today = now.date()
    ran = False
    if not EnforcementRun.objects.filter(at=today, finished__isnull=False).exists():
        enforce(current_policy(), today, actor="serve")
        remind(today)
        check_and_record(current_policy(), actor="serve")  # P12: where the data is
        remind_incidents(current_policy(), timezone.now())  # Art. 33: the 72-hour clock
        ran = True
    if backup_due(now):
        policy = current_policy()
        try:
            run_backup(policy, actor="serve")
            verify(policy, actor="serve")
        except BackupError as exc:  # recorded, alerted; tried again in an hour
            log.warning("gallra: backup: %s", exc)
        ran = True
    return ran


def backup_due(now) -> bool:
    """A backup repository is configured, today has no good backup, and none failed lately."""
    if not settings.GALLRA_BACKUP_REPOSITORY:
        return False
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    runs = BackupRun.objects.filter(kind=BackupRun.Kind.BACKUP, started__gte=midnight)
    if runs.filter(ok=True).exists():
        return False
    return not runs.filter(started__gte=now - timedelta(hours=1)).exists()


def start_daily_thread() -> threading.Thread | None:
    if daily_time() is None:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                close_old_connections()
                if run_if_due():
                    log.warning("gallra: daily enforcement and reminders done")
            except Exception:  # one bad day must not stop tomorrow's run
                log.exception("gallra: daily enforcement failed; retrying in %ss", CHECK_EVERY)
            finally:
                close_old_connections()
            stop.wait(CHECK_EVERY)

    thread = threading.Thread(target=loop, name="gallra-daily", daemon=True)
    thread.stop = stop
    thread.start()
    return thread
