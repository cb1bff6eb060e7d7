"""The daily run inside `gallra serve`: sync (when the policy declares sources), enforce, the
reminders, the residency check, the backup and its restore drill (when
GALLRA_BACKUP_REPOSITORY is set), once a day.

A small installation has no cron to configure: `serve` checks every few minutes whether
today's jobs are done, and runs those that are not after the configured time
(GALLRA_ENFORCE_TIME, default 03:00 Europe/Stockholm; "off" to leave it to cron). A job
already done today from cron (`gallra enforce`, `gallra backup run`, `gallra backup verify`)
is not run again.

Enforce deletes only while enforcement is armed (retention/arming.py); otherwise it records,
once a day, that it skipped and what would have gone, and the other jobs run as usual.

Each job runs on its own: whatever goes wrong in one (any exception) is logged in one line,
recorded in the evidence log (`daily_job_failed`, unless the job records its own failure,
as the backup and the drill do) and mailed to the staff of the job's area; the next job
still runs, and the failed one is tried again an hour later (mailed again only when it
fails differently).

The schedule lives here, at the top, because it drives every app's daily job: retention's,
residency's, the incidents' and the backups'. No lower app imports it (README, Layers); the
record of each run, DailyRun, stays with retention.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import close_old_connections, connection
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gallra.backups.models import BackupRun
from gallra.backups.restic import BackupError
from gallra.backups.runs import run_backup, verify
from gallra.evidence.log import append
from gallra.incidents.reminders import remind as remind_incidents
from gallra.instance.staff import addresses_for, mail_staff
from gallra.policy.loading import PolicyError, current_policy
from gallra.residency.places import check_and_record
from gallra.retention import arming
from gallra.retention.enforcement import EnforcementBusy, enforce
from gallra.retention.models import DailyRun, EnforcementRun
from gallra.retention.tasks import follow_staff, remind
from gallra.subjects.export import delete_old_exports
from gallra.sync.run import sync, synced_today

log = logging.getLogger(__name__)
CHECK_EVERY = 300  # seconds
ADDRESS = re.compile(r"[^\s'\"<>()]+@[^\s'\"<>()]+")
RETRY_AFTER = timedelta(hours=1)  # a failed job is tried again after this, not every 5 minutes
ACTOR = "serve"


class JobFailed(Exception):
    """A job ran but did not do all it should (a mailbox not reached); the message says what."""


@dataclass(frozen=True)
class Job:
    name: str  # in the log, the evidence and DailyRun
    area: str  # the policy's `responsibilities` key whose staff are told when it fails
    label: str  # for people (lazy translation)
    run: Callable[[datetime], str]  # returns a DailyRun outcome: "ok" or "skipped"
    done_elsewhere: Callable[[datetime], bool] = lambda now: False  # by cron, today
    wanted: Callable[[], bool] = lambda: True  # configured at all
    records_itself: bool = False  # its BackupError was recorded and mailed by the job itself


def daily_time() -> time | None:
    value = os.environ.get("GALLRA_ENFORCE_TIME", "03:00")
    return None if value == "off" else time.fromisoformat(value)


# -- the jobs ----------------------------------------------------------------------------------


def _sync(now: datetime) -> str:
    """The registry's facts from the provider's systems, before enforce counts from them."""
    policy = current_policy()
    failed = [r for r in sync(policy, timezone.localdate(now), actor=ACTOR) if r.exit_code]
    if failed:  # the others synced; the failed ones changed nothing
        raise JobFailed("; ".join(r.summary() for r in failed))
    return DailyRun.Outcome.OK


def _synced(now: datetime) -> bool:
    return synced_today(current_policy(), timezone.localdate(now))


def _sources() -> bool:
    try:
        return bool(current_policy().source)
    except (PolicyError, OSError):  # enforce says that the policy cannot be read
        return False


def _enforce(now: datetime) -> str:
    policy = current_policy()
    today = timezone.localdate(now)
    found = arming.notice(policy, now, ACTOR)
    if not found.armed:
        going = arming.skip(policy, today, now, ACTOR, found)
        with translation.override("en"):  # the log in one language
            why = found.why
        log.warning(
            "gallra: enforcement is not armed (%s): nothing deleted; %s records would "
            "have been (gallra enforce --dry-run, then --arm)",
            why,
            going.total,
        )
        return DailyRun.Outcome.SKIPPED
    summary = enforce(policy, today, actor=ACTOR)[-1]
    problems = summary.mail.get("problems", [])
    if problems:  # the registry is done; the mailbox is resumed by the next run
        raise JobFailed("; ".join(problems))
    return DailyRun.Outcome.OK


def _tasks(now: datetime) -> str:
    # The reminders of the tasks there are need no policy: they go out even when it is broken.
    remind(timezone.localdate(now))
    delete_old_exports(now)  # a subject's export ZIP is kept a week for staff to hand over
    # Staff made in the admin get the open tasks of their area; that needs to know the areas,
    # so a broken policy fails the job here, after the reminders, and the superusers are told.
    if follow_staff(current_policy(), now, actor=ACTOR):
        remind(timezone.localdate(now))  # whoever just got a task hears of it today
    return DailyRun.Outcome.OK


def _residency(now: datetime) -> str:
    check_and_record(current_policy(), actor=ACTOR)  # P12: where the data is
    return DailyRun.Outcome.OK


def _incidents(now: datetime) -> str:
    remind_incidents(current_policy(), now)  # Art. 33: the 72-hour clock
    return DailyRun.Outcome.OK


def _backup(now: datetime) -> str:
    run_backup(current_policy(), actor=ACTOR)
    return DailyRun.Outcome.OK


def _drill(now: datetime) -> str:
    verify(current_policy(), actor=ACTOR)
    return DailyRun.Outcome.OK


def _midnight(now: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(now), time()))


def _backed_up(kind: str) -> Callable[[datetime], bool]:
    def done(now: datetime) -> bool:
        return BackupRun.objects.filter(kind=kind, ok=True, started__gte=_midnight(now)).exists()

    return done


def _enforced(now: datetime) -> bool:
    today = timezone.localdate(now)
    return EnforcementRun.objects.filter(at=today, finished__isnull=False).exists()


def _repository() -> bool:
    return bool(settings.GALLRA_BACKUP_REPOSITORY)


JOBS: list[Job] = [
    Job(
        "sync",
        "customer_data",
        gettext_lazy("Facts from the source (sync)"),
        _sync,
        wanted=_sources,
        done_elsewhere=_synced,
    ),
    Job(
        "enforce",
        "retention",
        gettext_lazy("Deletion (enforce)"),
        _enforce,
        done_elsewhere=_enforced,
    ),
    Job("tasks", "retention", gettext_lazy("Manual task reminders"), _tasks),
    Job("residency", "residency", gettext_lazy("Where the data is (gallra check)"), _residency),
    Job("incidents", "incidents", gettext_lazy("Breach reminders"), _incidents),
    Job(
        "backup",
        "backups",
        gettext_lazy("Backup"),
        _backup,
        wanted=_repository,
        done_elsewhere=_backed_up(BackupRun.Kind.BACKUP),
        records_itself=True,
    ),
    Job(
        "drill",
        "backups",
        gettext_lazy("Restore drill (backup verify)"),
        _drill,
        wanted=_repository,
        done_elsewhere=_backed_up(BackupRun.Kind.VERIFY),
        records_itself=True,
    ),
]


# -- running them ------------------------------------------------------------------------------


def run_if_due(*, now: datetime | None = None, any_time: bool = False, wait: bool = False) -> bool:
    """Run each of today's jobs that is due; True when any ran. `any_time`: before the
    configured time too (`gallra jobs daily`). `wait`: for another daily run to end rather
    than leave the day to it (the queue's job, which its lock already made the only one: what
    still holds the run is a killed worker's connection, about to go)."""
    start = daily_time()
    now = now or timezone.localtime()
    if not any_time and (start is None or now.time() < start):
        return False
    ran = False
    with one_daily_run(wait=wait) as alone:
        if not alone:  # another process is at it: its run does today's jobs
            return False
        for job in JOBS:
            if due(job, now):
                run_job(job, now)
                ran = True
    return ran


DAILY_LOCK_KEY = 0x6A11_2D  # PostgreSQL advisory lock id for the daily run


@contextmanager
def one_daily_run(*, wait: bool = False) -> Iterator[bool]:
    """Yield whether this process is the only one running today's jobs.

    The queue already runs one daily job at a time; this also holds against `gallra jobs
    daily` beside `serve` on SQLite (a lock file) and against anything else on PostgreSQL (a
    session advisory lock, which a killed process's connection gives up with it)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if wait:
                cursor.execute("SELECT pg_advisory_lock(%s), true", [DAILY_LOCK_KEY])
            else:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [DAILY_LOCK_KEY])
            alone = cursor.fetchone()[-1]
        try:
            yield alone
        finally:
            if alone:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [DAILY_LOCK_KEY])
        return
    settings.GALLRA_DATA.mkdir(parents=True, exist_ok=True)
    with open(settings.GALLRA_DATA / "daily.lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def due(job: Job, now: datetime) -> bool:
    """Wanted, not done today (here or from cron), and not tried within the last hour.

    A run that never finished was interrupted (its process killed): it is due again at once.
    Only one daily run goes at a time (the thread of the one `serve` on SQLite, the queue's
    lock on PostgreSQL), so an unfinished row is never one still going."""
    if not job.wanted():
        return False
    runs = DailyRun.objects.filter(day=timezone.localdate(now), job=job.name)
    if runs.filter(outcome__in=[DailyRun.Outcome.OK, DailyRun.Outcome.SKIPPED]).exists():
        return False
    if runs.filter(started__gt=now - RETRY_AFTER, finished__isnull=False).exists():
        return False
    return not job.done_elsewhere(now)


def run_job(job: Job, now: datetime) -> DailyRun:
    """Run one job; whatever it raises is logged, recorded and mailed, never passed on.

    An interrupted run of the same day is carried on in its own row: the day shows one run
    of the job, which the job itself resumes (enforce finishes its unfinished run, backup
    reports the killed one)."""
    day = timezone.localdate(now)
    record = DailyRun.objects.filter(day=day, job=job.name, finished__isnull=True).first()
    if record is None:
        record = DailyRun.objects.create(day=day, job=job.name, started=now)
    else:
        log.warning("gallra: daily job %s was interrupted; carrying it on", job.name)
    try:
        record.outcome = job.run(now)
    except Exception as exc:  # any cause: the other jobs of the day still run
        problem = one_line(exc)
        record.outcome = DailyRun.Outcome.FAILED
        record.problem = masked(problem)  # the front page shows it: no e-mail address
        log.error("gallra: daily job %s failed: %s (tried again in an hour)", job.name, problem)
        log.debug("gallra: daily job %s failed", job.name, exc_info=True)
        if not (job.records_itself and isinstance(exc, BackupError)):
            failed(job.name, job.area, job.label, problem, now)
    record.finished = timezone.now()
    try:
        record.save(update_fields=["outcome", "problem", "finished"])
    except Exception as exc:  # the database went away; the job is tried again in an hour
        log.error(
            "gallra: daily job %s: its outcome could not be saved: %s", job.name, one_line(exc)
        )
    return record


def one_line(exc: BaseException) -> str:
    """The exception as one line a person can act on; the type named when it is a surprise."""
    first = " ".join(str(exc).split("\n", 1)[0].split())
    if isinstance(exc, PolicyError):
        more = len(exc.problems) - 1
        text = f"the policy is not valid: {first}" + (f" (and {more} more)" if more > 0 else "")
    elif isinstance(exc, (BackupError, JobFailed, EnforcementBusy)) and first:
        text = first
    else:
        text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text[:500]


def masked(problem: str) -> str:
    """The problem for the evidence log and the front page: e-mail addresses left out."""
    return ADDRESS.sub("[address]", problem)


def failed(job: str, area: str, label: str, problem: str, now: datetime) -> None:
    """A daily job failed: the evidence log says so, and the area's staff are told once per
    day and problem. Never raises: the caller goes on with the next job."""
    day = timezone.localdate(now)
    try:
        earlier = DailyRun.objects.filter(
            day=day, job=job, outcome=DailyRun.Outcome.FAILED, problem=masked(problem)
        ).exists()
    except Exception:  # the database is away: mail, at least
        earlier = False
    try:
        append(  # the evidence log outlives everything: no e-mail address from a message
            "daily_job_failed",
            actor=ACTOR,
            at=now,
            data={
                "job": job,
                "area": area,
                "day": day.isoformat(),
                "problem": masked(problem),
            },
        )
    except Exception as exc:
        log.error("gallra: the failure of %s could not be recorded: %s", job, one_line(exc))
    if not earlier:
        alert(job, area, label, problem, now)


def alert(job: str, area: str, label: str, problem: str, now: datetime) -> bool:
    """Mail the staff of `area` (or, with no readable policy, the superusers)."""
    try:
        try:
            policy = current_policy()
            to, language = addresses_for(policy, area), policy.languages[0]
        except (PolicyError, OSError):
            users = get_user_model().objects.filter(is_active=True, is_superuser=True)
            to = sorted({u.email for u in users.exclude(email="")})
            language = settings.LANGUAGE_CODE
        if not to:
            log.error(
                "gallra: nobody to tell that %s failed: no staff with an e-mail address "
                "in the area %r",
                job,
                area,
            )
            return False
        with translation.override(language):
            label = str(label)  # a lazy label, in the policy's language
            subject = _("gallra: daily job failed: %(job)s") % {"job": label}
            when = f"{timezone.localtime(now):%Y-%m-%d %H:%M}"
            body = "\n".join(
                [
                    _("The daily job %(job)s of gallra serve failed at %(when)s:")
                    % {"job": label, "when": when},
                    "",
                    problem,
                    "",
                    _(
                        "The other daily jobs ran as usual. This one is tried again in an "
                        "hour; the evidence log has the entry daily_job_failed. See "
                        "docs/retention.md."
                    ),
                ]
            )
        # Through the outbox: a relay that is down delays it; with the database away, direct.
        mail_staff(subject, body, to, kind="job_failed", now=now)
    except Exception as exc:
        log.error("gallra: the alert that %s failed could not be mailed: %s", job, one_line(exc))
        return False
    return True


def armed_line() -> str:
    """For `gallra serve` as it starts: whether the daily run will delete anything."""
    try:
        found = arming.state(current_policy())
    except (PolicyError, OSError) as exc:
        return f"the policy cannot be read: {one_line(exc)}"
    with translation.override("en"):  # like the other lines `serve` prints
        how, why = (found.how, "") if found.armed else ("", found.why)
    if found.armed:
        return f"enforcement is {how}"
    return (
        f"enforcement is not armed ({why}): the daily run deletes nothing until you "
        "review `gallra enforce --dry-run` and arm with `gallra enforce --arm`"
    )


def start_daily_thread() -> threading.Thread | None:
    if daily_time() is None:
        return None
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                close_old_connections()
                if run_if_due():
                    log.warning("gallra: daily jobs done")
            except Exception as exc:  # the database is away: one bad day must not stop tomorrow
                log.error(
                    "gallra: the daily run could not start: %s; retrying in %ss",
                    one_line(exc),
                    CHECK_EVERY,
                )
            finally:
                close_old_connections()
            stop.wait(CHECK_EVERY)

    thread = threading.Thread(target=loop, name="gallra-daily", daemon=True)
    thread.stop = stop
    thread.start()
    return thread


def today_failures(day: date) -> list[DailyRun]:
    """The jobs whose last run today failed (the dashboard shows them)."""
    last: dict[str, DailyRun] = {}
    for run in DailyRun.objects.filter(day=day).order_by("started", "pk"):
        last[run.job] = run
    return [r for r in last.values() if r.outcome == DailyRun.Outcome.FAILED]
