"""`backup run` and `backup verify` (P11, P18): encrypted backups that live at most a week.

run: dump the database consistently, back it up with the policy's directories, then forget
every snapshot older than the window **counted from now** and prune with `--max-unused 0`.
(`forget --keep-within` counts from the newest snapshot, so when backups stop it keeps old
ones; a default prune leaves up to 5% unused data behind, which can be a forgotten
snapshot's.) Snapshots are forgotten by id.

verify: every snapshot is younger than the window, `restic check` passes, and the newest
snapshot restored into a scratch folder gives back the database as it was dumped (rows per
table and a checksum, recorded at backup). Both leave an evidence entry.
"""

from __future__ import annotations

import fcntl
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gallra.backups import dump, keys
from gallra.backups import restic as restic_module
from gallra.backups.models import BackupRun
from gallra.backups.restic import BackupError, require_restic, restic
from gallra.evidence.log import append
from gallra.instance.staff import addresses_for, mail_staff
from gallra.policy.model import Policy

TAG = "gallra"
STAGING, SCRATCH = "gallra-backup-", "gallra-restore-"  # folders under the data directory
# The same path every run, so that restic finds the last snapshot of the same paths and
# reads only what changed in the directories (a new folder each run makes it read them all).
STAGING_FOLDER = STAGING + "staging"
DATABASE_FOLDER = "database"
log = logging.getLogger(__name__)


def parse_time(text: str) -> datetime:
    # restic writes nanoseconds and its own zone: 2026-11-25T16:40:00.123456789+01:00
    head, _, rest = text.partition(".")
    zone = rest.lstrip("0123456789") if rest else ""
    fraction = rest[: len(rest) - len(zone)][:6] if rest else ""
    at = datetime.fromisoformat(head + (f".{fraction}" if fraction else "") + zone)
    return at.astimezone(UTC)


def snapshots(tag: str = TAG, listed: list[dict] | None = None) -> list[dict]:
    """gallra's snapshots with this tag, oldest first, each with `at` as a UTC datetime.

    `listed`: every snapshot, from one `restic snapshots` already made (each call costs).
    """
    if listed is None:
        listed = list_all()
    found = [s for s in listed if tag in (s.get("tags") or [])]
    for snap in found:
        snap["at"] = parse_time(snap["time"])
    return sorted(found, key=lambda s: s["at"])


def list_all() -> list[dict]:
    """Every snapshot in the repository, as restic lists them. Without restic's lock when
    gallra holds its own (lock()): nothing of gallra's can change the repository meanwhile."""
    no_lock = ["--no-lock"] if restic_module.HELD[0] else []
    return restic("snapshots", *no_lock, json_output=True) or []


def cutoff(policy: Policy, now: datetime) -> datetime:
    """Snapshots taken before this are past the window."""
    today = now.date()
    return now - (policy.backups.window.after(today) - today)


BACKUP_STEPS = 4  # dump, restic backup (and the keys), the snapshot's id, apply the window


def run_backup(
    policy: Policy,
    now: datetime | None = None,
    at: datetime | None = None,
    actor: str = "backup",
    progress: Callable[[int, int], None] | None = None,
) -> BackupRun:
    """Back up now (or, for tests, with the snapshot time `at`), then apply the window.

    `progress(done, BACKUP_STEPS)` after each step, for the command's bar on a terminal.
    """
    now = now or timezone.now()
    with lock():
        return _run_backup(policy, now, at, actor, progress or (lambda done, total: None))


def _run_backup(
    policy: Policy,
    now: datetime,
    at: datetime | None,
    actor: str,
    progress: Callable[[int, int], None],
) -> BackupRun:
    remove_leftovers()
    report_killed(policy, actor)
    record = BackupRun.objects.create(kind=BackupRun.Kind.BACKUP, started=now)
    staging = settings.GALLRA_DATA / STAGING_FOLDER
    try:
        require_restic()  # before a plain copy of the database is made for nothing
        # Side by side, in threads, what does not wait on the other: the snapshot listing
        # while the database is dumped; the dump's summary and the keys snapshot while restic
        # backs up the copy and the directories (restic's backups share its lock).
        with ThreadPoolExecutor(max_workers=3) as side:
            listing = side.submit(list_all)
            copy = dump.dump_database(staging / DATABASE_FOLDER)
            progress(1, BACKUP_STEPS)
            paths = [str(staging / DATABASE_FOLDER), *policy.backups.directories]
            args = ["backup", "--tag", TAG, "--host", "gallra"]
            if at is not None:
                args += ["--time", at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")]  # TZ=UTC
            backup = side.submit(restic, *args, *paths, json_output=True)
            try:
                listed = listing.result()
            except BackupError:
                backup.result()  # its error, when it fails too, says more
                raise
            limit = cutoff(policy, now)
            held = keys.content(now)
            newest_keys = keys.unchanged(snapshots(keys.TAG, listed), held, limit)
            made_keys = None if newest_keys else side.submit(keys.backup_keys, now, at, held)
            record.summary = dump.summary(copy)
            result = backup.result()
            progress(2, BACKUP_STEPS)
            newest_keys = newest_keys or made_keys.result()
        short = (result or {}).get("snapshot_id", "")  # restic 0.14 gives the short id
        record.snapshot = restic_module.full_id(short) or next(
            (x["id"] for x in snapshots(TAG) if short and x["id"].startswith(short)), short
        )
        progress(3, BACKUP_STEPS)
        found = [x for x in snapshots(TAG, listed) if x["id"] != record.snapshot]
        found.append({"id": record.snapshot, "at": at or now})  # listed before it was made
        record.forgotten = apply_window(
            policy, now, found, snapshots(keys.TAG, listed), newest_keys
        )
        progress(4, BACKUP_STEPS)
        record.ok = True
    except BackupError as exc:
        record.problem = str(exc)
    except Exception as exc:  # anything else: recorded and mailed all the same, in one line
        log.debug("gallra: backup failed", exc_info=True)
        record.problem = unexpected(exc)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # the plain copy must not outlive the run
        record.finished = timezone.now()
        record.save()
    append(
        "backup" if record.ok else "backup_failed",
        actor=actor,
        at=record.finished,
        record_type="backup",
        count=1 if record.ok else 0,
        data={
            "snapshot": record.snapshot,
            "forgotten": record.forgotten,
            "checksum": record.summary.get("checksum", ""),
            "problem": record.problem,
        },
    )
    if not record.ok:
        alert(policy, record)
        raise BackupError(record.problem)
    return record


def unexpected(exc: BaseException) -> str:
    """An error no step foresaw, as one line: its type and the first line of its message."""
    text = " ".join(str(exc).split("\n", 1)[0].split())
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


def report_killed(policy: Policy, actor: str) -> list[BackupRun]:
    """Runs that never finished (killed: power, OOM killer, kill -9) could not say so
    themselves; the next run does, with an evidence entry and the alert they did not send."""
    killed = list(BackupRun.objects.filter(finished__isnull=True))
    for record in killed:
        record.finished = timezone.now()
        record.problem = _killed(record)
        record.save(update_fields=["finished", "problem"])
        append(
            "backup_failed",
            actor=actor,
            at=record.finished,
            record_type="backup",
            count=0,
            data={"snapshot": "", "forgotten": [], "checksum": "", "problem": record.problem},
        )
        alert(policy, record)
    return killed


def _killed(record: BackupRun) -> str:
    return (
        f"the {record.get_kind_display()} started {record.started:%Y-%m-%d %H:%M} UTC "
        "never finished: it was stopped (killed, or the server went down); the earlier "
        "snapshots are as they were"
    )


@contextmanager
def lock() -> Iterator[None]:
    """One backup, drill, restore or keys renewal at a time (they share the staging folder)."""
    settings.GALLRA_DATA.mkdir(parents=True, exist_ok=True)
    with open(settings.GALLRA_DATA / "backup.lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        restic_module.HELD[0] = True
        try:
            yield
        finally:
            restic_module.HELD[0] = False
            fcntl.flock(f, fcntl.LOCK_UN)


def remove_leftovers() -> list[Path]:
    """Plain database copies left by a run that was killed: they must not stay on disk."""
    found = [p for prefix in (STAGING, SCRATCH) for p in settings.GALLRA_DATA.glob(prefix + "*")]
    for path in found:
        shutil.rmtree(path, ignore_errors=True)
    return found


def apply_window(
    policy: Policy,
    now: datetime,
    found: list[dict] | None = None,
    found_keys: list[dict] | None = None,
    newest_keys: str = "",
) -> list[str]:
    """Forget every snapshot older than the window from now, by id, and prune to nothing.

    Keys snapshots also go when they are older than the last destroyed key (keys.py).
    """
    if found is None or found_keys is None:
        listed = list_all()
        found, found_keys = snapshots(TAG, listed), snapshots(keys.TAG, listed)
    limit = cutoff(policy, now)
    expired = [s["id"] for s in found if s["at"] < limit]
    expired_keys = keys.expired(found_keys, limit, newest_keys or "-")
    forget(expired + expired_keys)
    return expired


def forget(ids: list[str]) -> None:
    """Forget these snapshots and prune with --max-unused 0: their data leaves the files."""
    if ids:
        restic("forget", "--prune", "--max-unused", "0", *ids)


def verify(policy: Policy, now: datetime | None = None, actor: str = "backup") -> BackupRun:
    """The restore drill; the record says what failed. BackupError when something did."""
    now = now or timezone.now()
    with lock():
        return _verify(policy, now, actor)


def _verify(policy: Policy, now: datetime, actor: str) -> BackupRun:
    record = BackupRun.objects.create(kind=BackupRun.Kind.VERIFY, started=now)
    problems = []
    scratch = None
    try:
        remove_leftovers()
        scratch = Path(tempfile.mkdtemp(prefix=SCRATCH, dir=settings.GALLRA_DATA))
        found = snapshots()
        limit = cutoff(policy, now)
        old = [s["short_id"] for s in found if s["at"] < limit]
        if old:
            problems.append(f"snapshots older than {policy.backups.window}: {', '.join(old)}")
        check = restic("check", check=False)
        if check.returncode != 0:
            problems.append(
                "restic check failed: " + (check.stdout + check.stderr).strip().splitlines()[-1]
            )
        if not found:
            problems.append("there is no snapshot to restore")
        else:
            newest = found[-1]
            record.snapshot = newest["id"]
            problems += _drill(newest["id"], scratch, record)
    except BackupError as exc:
        problems.append(str(exc))
    except Exception as exc:  # anything else: recorded and mailed all the same, in one line
        log.debug("gallra: restore drill failed", exc_info=True)
        problems.append(unexpected(exc))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    record.ok = not problems
    record.problem = "\n".join(problems)
    record.finished = timezone.now()
    record.save()
    append(
        "backup_verified" if record.ok else "backup_verify_failed",
        actor=actor,
        at=record.finished,
        record_type="backup",
        count=1,
        data={"snapshot": record.snapshot, "problems": problems},
    )
    if problems:
        alert(policy, record)
        raise BackupError("; ".join(problems))
    return record


def _drill(snapshot: str, scratch: Path, record: BackupRun) -> list[str]:
    """Restore the snapshot and compare its database copy with what was dumped."""
    restore_database(snapshot, scratch)
    copy = dump.find_copy(scratch)
    if copy is None:
        return [f"snapshot {snapshot[:8]} holds no database copy"]
    restored = dump.summary(copy)
    if copy.name == dump.PG_NAME:  # the archive restores, and into the same rows
        actual = dump.restored_pg_counts(copy)
        if restored["tables"] and actual != restored["tables"]:
            record.summary = restored | {"restored": actual}
            return [f"the database restored from {snapshot[:8]} has other row counts than dumped"]
        restored["tables"] = actual
    record.summary = restored
    taken = BackupRun.objects.filter(kind=BackupRun.Kind.BACKUP, snapshot=snapshot, ok=True).first()
    if taken is None:
        return []  # made elsewhere (another instance): restorable is all we can say
    if restored["checksum"] != taken.summary.get("checksum"):
        return [f"the restored database differs from the one backed up in {snapshot[:8]}"]
    return []


def restore_database(snapshot: str, scratch: Path) -> None:
    """Restore only the snapshot's database copy, not the directories backed up with it."""
    pattern = f"{STAGING_FOLDER}/{DATABASE_FOLDER}"
    restic("restore", snapshot, "--target", str(scratch), "--include", pattern)


def alert(policy: Policy, record: BackupRun) -> bool:
    """Tell the people responsible for backups that a run failed, and why."""
    to = addresses_for(policy, "backups")
    if not to:
        return False
    with translation.override(policy.languages[0]):
        what = (
            _("Backup failed")
            if record.kind == BackupRun.Kind.BACKUP
            else _("Backup verification failed")
        )
        when = f"{timezone.localtime(record.started):%Y-%m-%d %H:%M}"
        body = "\n".join(
            [
                _("%(what)s at %(when)s:") % {"what": what, "when": when},
                "",
                record.problem,
                "",
                _("The earlier snapshots are as they were. See docs/backups.md."),
            ]
        )
    try:  # through the outbox: a relay that is down delays it, and it is tried again
        mail_staff(f"gallra: {what}", body, to, kind="backup_alert", now=timezone.now())
    except Exception:  # the database and the relay both away
        log.exception("gallra: the backup alert could not be mailed")
        return False
    return True
