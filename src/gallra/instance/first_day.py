"""The demo's first hour: what a provider does before the front page's daily checks are green.

`gallra demo` loads its data, then does here what a new provider does by hand (docs/install.md,
docs/production.md): it says where the server is and where the backups go, in the data
directory's own settings file (`$GALLRA_DATA/env`, read by settings.py; the environment wins),
with the backup repository's password in a file beside it (mode 0600, never in git);
it gives the staff an e-mail address for their task reminders; it arms enforcement for the
policy and runs it for the day; then it runs the residency check, the first backup (making
the restic repository once), the restore drill and the evidence check. Each step already
done today is not done again, so a second `gallra demo` is quick. A step that fails says
why, and the others still run.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra import config
from gallra.backups.models import BackupRun
from gallra.backups.restic import BackupError, restic
from gallra.backups.runs import run_backup, verify
from gallra.policy.model import Policy
from gallra.residency.places import check_and_record
from gallra.retention import arming
from gallra.retention.enforcement import enforce
from gallra.retention.models import EnforcementRun
from gallra.staff import accounts

ACTOR = "demo"
COUNTRY = "SE"  # where the demo's (imagined) server stands: JufCorp's, in Sweden
REPOSITORY = "backups"  # the restic repository, in the data directory
REPOSITORY_KEY = "backup-password"  # the file of its password, beside it
STAFF_MAIL_DOMAIN = "redcloud.example"  # the demo staff's addresses: a reserved domain


@dataclass
class Step:
    name: str  # email, repository, enforce, residency, backup, drill, evidence
    done: str  # what was done, for people
    problem: str = ""


def settings_for(data: Path) -> dict[str, str]:
    """The demo's own settings: the server in Sweden, backups in the data directory."""
    return {
        "GALLRA_SERVER_COUNTRY": COUNTRY,
        "GALLRA_BACKUP_REPOSITORY": str(data / REPOSITORY),
        "GALLRA_BACKUP_PASSWORD_FILE": str(data / REPOSITORY_KEY),
    }


def configure(data: Path) -> Path | None:
    """Write `$GALLRA_DATA/env` with the demo's settings that are not set already, and the
    repository's password file; None when the file was there (it is left as it is)."""
    path = data / config.ENV_FILE_NAME
    if path.exists():
        return None
    wanted = {
        name: value
        for name, value in settings_for(data).items()
        if not (os.environ.get(name) or getattr(settings, name, ""))
    }
    if "GALLRA_BACKUP_PASSWORD_FILE" in wanted:
        _write_new(data / REPOSITORY_KEY, secrets.token_urlsafe(32) + "\n")
    lines = [
        "# Written by `gallra demo`: the demo server's settings (docs/production.md, Settings).",
        "# The environment overrides each of them.",
        *(f"{name}={value}" for name, value in wanted.items()),
    ]
    _write_new(path, "\n".join(lines) + "\n")
    return path


def _write_new(path: Path, text: str) -> None:
    """A new file readable by gallra's user only; an existing one is left alone."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as f:
        f.write(text)


@contextmanager
def in_effect(data: Path) -> Iterator[None]:
    """The data directory's settings in this process too, while the steps run: settings.py
    read the file before the demo wrote it. Put back afterwards (a test's process goes on)."""
    values = config.read_env_file(data / config.ENV_FILE_NAME)
    environ = {name: os.environ.get(name) for name in values}
    before = {name: getattr(settings, name) for name in values if hasattr(settings, name)}
    for name, value in values.items():
        os.environ.setdefault(name, value)
        if name in before and not before[name]:
            setattr(settings, name, os.environ[name])
    try:
        yield
    finally:
        for name, value in environ.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        for name, value in before.items():
            setattr(settings, name, value)


def first_day(policy: Policy, today: date, now: datetime) -> list[Step]:
    """Every step, in the order of the daily run (instance/schedule.py), each on its own."""
    steps = []
    for step in (_staff_email, _repository, _enforce, _residency, _backup, _drill, _evidence):
        try:
            steps.append(step(policy, today, now))
        except (BackupError, CommandError) as exc:
            steps.append(Step(step.__name__.lstrip("_"), "", str(exc)))
    return steps


def _staff_email(policy: Policy, today: date, now: datetime) -> Step:
    """Task reminders go by e-mail, and `gallra init` makes `admin` without an address: the
    demo gives each member of staff without one an address of the reserved example domain,
    as a provider sets theirs (`gallra staff email USER ADDRESS`, docs/staff.md)."""
    users = get_user_model().objects.filter(is_staff=True, is_active=True, email="")
    named = []
    for username in users.order_by("username").values_list("username", flat=True):
        try:
            accounts.set_email(username, f"{username}@{STAFF_MAIL_DOMAIN}", actor=ACTOR)
        except accounts.StaffError:  # a user name that makes no address: left to a person
            continue
        named.append(username)
    if not named:
        return Step("email", _("staff e-mail: every member of staff has an address"))
    done = _("staff e-mail: %(users)s get their task reminders at @%(domain)s")
    return Step("email", done % {"users": ", ".join(named), "domain": STAFF_MAIL_DOMAIN})


def _repository(policy: Policy, today: date, now: datetime) -> Step:
    """`gallra backup init`, once, before anything is deleted: a key destroyed by enforce
    renews the keys snapshot in the repository at once (backups/keys.py)."""
    repository = settings.GALLRA_BACKUP_REPOSITORY
    if not repository:
        problem = _("no backup repository: set GALLRA_BACKUP_REPOSITORY (docs/backups.md)")
        return Step("repository", "", problem)
    local = Path(repository)
    if local.is_absolute() and not (local / "config").exists():  # restic's first file
        restic("init")
        done = _("backup repository made: %(repository)s (its password in %(file)s)")
        values = {"repository": repository, "file": settings.GALLRA_BACKUP_PASSWORD_FILE}
        return Step("repository", done % values)
    return Step("repository", _("backup repository: %(repository)s") % {"repository": repository})


def _enforce(policy: Policy, today: date, now: datetime) -> Step:
    if EnforcementRun.objects.filter(at=today, finished__isnull=False).exists():
        return Step("enforce", _("enforcement: ran today already"))
    arming.arm(policy, now, by=ACTOR)
    summaries = enforce(policy, today, actor=ACTOR)
    deleted = sum(sum(s.deleted.values()) for s in summaries)
    done = ngettext(
        "enforcement armed for the demo and run: %(n)s record deleted, with evidence (a "
        "provider arms it after reviewing `gallra enforce --dry-run`)",
        "enforcement armed for the demo and run: %(n)s records deleted, with evidence (a "
        "provider arms it after reviewing `gallra enforce --dry-run`)",
        deleted,
    ) % {"n": deleted}
    problems = summaries[-1].problems
    return Step("enforce", done, "; ".join(problems))


def _residency(policy: Policy, today: date, now: datetime) -> Step:
    found = check_and_record(policy, actor=ACTOR)
    failed = [f"{p.name}: {p.problem}" for p in found if not p.ok]
    where = os.environ.get("GALLRA_SERVER_COUNTRY", "?")
    done = _("where the data is: %(n)s places checked, the server declared in %(country)s") % {
        "n": len(found),
        "country": where,
    }
    return Step("residency", done, "; ".join(failed))


def _done_today(kind: str, now: datetime) -> bool:
    midnight = timezone.make_aware(datetime.combine(timezone.localdate(now), time()))
    return BackupRun.objects.filter(kind=kind, ok=True, started__gte=midnight).exists()


def _backup(policy: Policy, today: date, now: datetime) -> Step:
    if _done_today(BackupRun.Kind.BACKUP, now):
        return Step("backup", _("backup: made today already"))
    repository = settings.GALLRA_BACKUP_REPOSITORY
    record = run_backup(policy, actor=ACTOR)
    done = _("backup: snapshot %(id)s in %(repository)s") % {
        "id": record.snapshot[:8],
        "repository": repository,
    }
    return Step("backup", done)


def _drill(policy: Policy, today: date, now: datetime) -> Step:
    if _done_today(BackupRun.Kind.VERIFY, now):
        return Step("drill", _("restore drill: passed today already"))
    record = verify(policy, actor=ACTOR)
    rows = sum(record.summary.get("tables", {}).values())
    done = _("restore drill: snapshot %(id)s restores the database (%(rows)s rows)") % {
        "id": record.snapshot[:8],
        "rows": rows,
    }
    return Step("drill", done)


def _evidence(policy: Policy, today: date, now: datetime) -> Step:
    # As `gallra evidence verify` from the command line, which records what it found.
    call_command("evidence", "verify", stdout=io.StringIO(), stderr=io.StringIO())
    return Step("evidence", _("evidence log: the chain is intact"))
