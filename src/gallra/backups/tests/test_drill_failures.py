"""A failing daily job says so (issue 16, item 19): one clear line in the log, an evidence
entry and a mail to the staff of the job's area, whatever the cause, and the next job of the
day still runs. `gallra check` says beforehand what the restore drill needs.

The causes are real where this machine can make them: a table the job needs renamed away (the
database answers with its own error), a policy file that is not TOML, a staging folder that
is a file, a snapshot whose database copy is not a database, and, on PostgreSQL, gallra's
database role set up as docs/production.md says, without CREATEDB.
"""

from __future__ import annotations

import io
import logging
import secrets
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from gallra.backups import runs
from gallra.backups.models import BackupRun
from gallra.backups.restic import restic
from gallra.backups.tests.conftest import cheapen_key
from gallra.evidence.models import Entry
from gallra.instance import schedule
from gallra.instance.tests.conftest import Gallra
from gallra.outbox.models import Mail
from gallra.retention.models import DailyRun, ManualTask

pytestmark = pytest.mark.django_db(transaction=True)  # the online backup needs no open transaction
DAY = datetime(2026, 11, 25, 2, 5, tzinfo=UTC)  # 03:05 in Stockholm
CEO, TECHNICIAN, ADMIN = "vd@redcloud.example", "drift@redcloud.example", "admin@redcloud.example"
JOBS = ["enforce", "tasks", "residency", "incidents", "backup", "drill"]


def at(instant: datetime):
    return mock.patch("django.utils.timezone.now", return_value=instant)


@pytest.fixture
def installation(repository, policy, settings, monkeypatch, smtp):
    """JufCorp's staff (the CEO, a technician, the superuser who set gallra up), armed by
    the setting, a backup repository with yesterday's snapshot in it."""
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "03:00")
    settings.GALLRA_ENFORCE_ARMED = True
    for username, email, group in (("vd", CEO, "ceo"), ("tekniker", TECHNICIAN, "technician")):
        user = User.objects.create(username=username, email=email)
        user.groups.add(Group.objects.create(name=group))
    User.objects.create(username="admin", email=ADMIN, is_superuser=True)
    runs.run_backup(policy, now=DAY - timedelta(days=1))  # what the drill can fall back on
    return smtp


@pytest.fixture
def renamed():
    """rename(table): the table is gone for the job (the database's own error), and back after."""
    done = []

    def rename(table: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}" RENAME TO "{table}_away"')
        done.append(table)

    yield rename
    for table in done:
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER TABLE "{table}_away" RENAME TO "{table}"')


def garbage_snapshot(tmp_path: Path) -> None:
    """The newest snapshot holds a database copy that is not a database: the drill's SQLite
    reader fails with an error no step of the drill foresaw."""
    folder = tmp_path / "elsewhere" / runs.STAGING_FOLDER / runs.DATABASE_FOLDER
    folder.mkdir(parents=True)
    (folder / "gallra.sqlite3").write_bytes(b"this is not an SQLite database" * 100)
    later = datetime.now(UTC) + timedelta(hours=1)  # newer than the backup made today
    restic(
        "backup",
        "--tag",
        runs.TAG,
        "--host",
        "gallra",
        "--time",
        later.strftime("%Y-%m-%d %H:%M:%S"),
        str(folder),
    )


def staging_is_a_file(settings) -> None:
    """The backup cannot make its private folder for the database copy."""
    (settings.GALLRA_DATA / runs.STAGING_FOLDER).write_text("not a folder")


def bad_address(settings) -> None:
    """A task due, for a staff member whose address holds a line break: the outbox refuses
    the reminder's mail (the whole job stops there, as any error would stop it)."""
    user = User.objects.create(username="trasig", email="drift@redcloud.example\nBcc: x@y.example")
    ManualTask.objects.create(
        rule="phone-contacts",
        customer_ref="C-1",
        assignee=user,
        what="Radera kontakterna",
        created=DAY,
        due=DAY.date(),
    )


# job -> (how to break it, what the problem line says, the evidence entry, to whom, subject)
CAUSES = {
    "enforce": (
        "retention_duerecord",
        "retention_duerecord",
        "daily_job_failed",
        CEO,
        "gallra: ett dagligt jobb misslyckades: Gallring (enforce)",
    ),
    "tasks": (
        bad_address,
        "BadHeader: to: a line break or control character in a mail header",
        "daily_job_failed",
        CEO,
        "gallra: ett dagligt jobb misslyckades: Påminnelser om manuella uppgifter",
    ),
    "incidents": (
        "incidents_incident",
        "incidents_incident",
        "daily_job_failed",
        CEO,
        "gallra: ett dagligt jobb misslyckades: Påminnelser om personuppgiftsincidenter",
    ),
    "backup": (
        staging_is_a_file,
        "the database could not be copied into",
        "backup_failed",
        TECHNICIAN,
        "gallra: Säkerhetskopieringen misslyckades",
    ),
    "drill": (
        garbage_snapshot,
        "DatabaseError: file is not a database",
        "backup_verify_failed",
        TECHNICIAN,
        "gallra: Kontrollen av säkerhetskopian misslyckades",
    ),
}


def outcomes(day: str = "2026-11-25") -> dict[str, str]:
    found = {}
    for job, outcome in (
        DailyRun.objects.filter(day=day).order_by("pk").values_list("job", "outcome")
    ):
        found[job] = outcome  # the last run of each job
    return found


def errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("job", list(CAUSES))
def test_a_failing_job_is_logged_recorded_and_mailed_and_the_others_run(
    installation, renamed, settings, tmp_path, caplog, job
):
    smtp = installation
    breaks, says, action, to, subject = CAUSES[job]
    if isinstance(breaks, str):
        renamed(breaks)
    else:
        breaks(tmp_path if breaks is garbage_snapshot else settings)
    caplog.set_level(logging.WARNING)

    with at(DAY):
        assert schedule.run_if_due() is True

    assert outcomes() == {j: ("failed" if j == job else "ok") for j in JOBS}
    problem = DailyRun.objects.get(job=job).problem
    assert says in problem and "\n" not in problem and "@" not in problem
    # One clear line: no traceback anywhere in the log.
    [line] = errors(caplog)
    message = line.getMessage()
    assert message.startswith(f"gallra: daily job {job} failed: ") and says in message
    assert message.endswith(" (tried again in an hour)") and "\n" not in message
    assert not any(r.exc_info for r in caplog.records if r.levelno >= logging.WARNING)
    # The evidence entry, and no other failure recorded.
    failures = Entry.objects.filter(
        action__in=["daily_job_failed", "backup_failed", "backup_verify_failed"]
    )
    [entry] = failures
    assert entry.action == action
    said = entry.data.get("problem") or entry.data.get("problems", [""])[0]
    assert says in said and "@" not in said  # no address in the evidence log
    # One mail, to the staff of the job's area, naming the problem.
    [(recipients, mail_subject, body)] = smtp.messages
    assert recipients == [to] and mail_subject == subject
    assert says in body


@pytest.mark.parametrize("job", ["enforce", "tasks", "incidents"])
def test_a_job_still_failing_is_tried_hourly_and_mailed_once(installation, renamed, settings, job):
    smtp = installation
    breaks = CAUSES[job][0]
    renamed(breaks) if isinstance(breaks, str) else breaks(settings)
    with at(DAY):
        schedule.run_if_due()
    with at(DAY + timedelta(minutes=30)):
        assert schedule.run_if_due() is False  # not every five minutes
    with at(DAY + timedelta(minutes=70)):
        assert schedule.run_if_due() is True
    assert DailyRun.objects.filter(job=job, outcome="failed").count() == 2
    assert Entry.objects.filter(action="daily_job_failed").count() == 2  # each failure recorded
    assert len(smtp.messages) == 1  # the same problem is mailed once a day
    assert DailyRun.objects.filter(outcome="ok").count() == len(JOBS) - 1  # the others: once


def test_the_front_page_shows_a_job_that_failed_today_at_once(installation, settings, client):
    bad_address(settings)
    with at(DAY):
        schedule.run_if_due()
        User.objects.filter(username="admin").update(is_staff=True)
        client.force_login(User.objects.get(username="admin"))
        html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    runs_panel = html[html.index('id="dashboard-runs"') :]
    start = runs_panel.index("Manual task reminders")
    row = runs_panel[start : runs_panel.index("</tr>", start)]
    assert "dashboard-failed" in row
    assert "BadHeader: to: a line break" in row  # and no address on the page
    assert "drift@" not in html


def test_an_unreadable_policy_fails_each_job_that_needs_it_and_tells_the_superusers(
    installation, tmp_path, monkeypatch, caplog
):
    smtp = installation
    broken = tmp_path / "policy.toml"
    broken.write_text('[organisation\nname = "JufCorp AB"\n')
    monkeypatch.setenv("GALLRA_POLICY", str(broken))
    caplog.set_level(logging.WARNING)

    with at(DAY):
        schedule.run_if_due()

    # The tasks job sends the reminders it has first, then needs the policy's areas to give
    # staff made since the open tasks of their area (issue 19): it fails after the reminders.
    needs_policy = ["enforce", "tasks", "residency", "incidents", "backup", "drill"]
    assert outcomes() == {j: "failed" if j in needs_policy else "ok" for j in JOBS}
    entries = Entry.objects.filter(action="daily_job_failed").order_by("seq")
    assert [e.data["job"] for e in entries] == needs_policy
    for entry in entries:
        assert entry.data["problem"].startswith(f"the policy is not valid: {broken}:")
    assert len(errors(caplog)) == len(needs_policy)
    assert not any(r.exc_info for r in caplog.records)
    # Without a policy nobody's area is known: the superusers who set gallra up are told.
    assert [to for to, _, _ in smtp.messages] == [[ADMIN]] * len(needs_policy)


def test_a_relay_that_is_down_does_not_stop_the_record(installation, renamed, settings, caplog):
    smtp = installation
    renamed("incidents_incident")
    relay = settings.EMAIL_PORT
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = s.getsockname()[1]
    caplog.set_level(logging.WARNING)
    with at(DAY):
        schedule.run_if_due()
    assert outcomes()["incidents"] == "failed" and outcomes()["drill"] == "ok"
    assert Entry.objects.filter(action="daily_job_failed").count() == 1
    [said] = [r.getMessage() for r in errors(caplog)]
    assert said.startswith("gallra: daily job incidents failed: ")
    assert not any(r.exc_info for r in caplog.records)
    # The alert waits in the outbox, and goes once the relay is back.
    [waiting] = Mail.objects.all()
    assert waiting.kind == "job_failed" and "ConnectionRefusedError" in waiting.last_error
    settings.EMAIL_PORT = relay
    with at(DAY + timedelta(minutes=2)):
        call_command("outbox", "send", stdout=io.StringIO())
    [(to, subject, body)] = smtp.messages
    assert to == [CEO] and subject == CAUSES["incidents"][4] and "incidents_incident" in body
    assert not Mail.objects.exists()


def test_gallra_backup_verify_fails_in_one_line_for_an_unforeseen_error(installation, tmp_path):
    smtp = installation
    garbage_snapshot(tmp_path)
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("backup", "verify", stdout=io.StringIO(), stderr=err)
    assert failed.value.returncode == 1
    assert "DatabaseError: file is not a database" in str(failed.value)
    assert "\n" not in str(failed.value)
    [entry] = Entry.objects.filter(action="backup_verify_failed")
    assert any("file is not a database" in p for p in entry.data["problems"])
    [(to, _, _)] = smtp.messages
    assert to == [TECHNICIAN]
    assert BackupRun.objects.get(kind="verify").finished is not None  # not left "running"


# -- PostgreSQL as docs/production.md sets it up ----------------------------------------------


@pytest.fixture
def production_role():
    """A login role and a database it owns, made as production.md says (`createuser`,
    `createdb --owner`): no CREATEDB. Dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (run with GALLRA_DATABASE_URL=postgresql://...)")
    import psycopg

    here = connection.settings_dict
    suffix = secrets.token_hex(3)
    role, name, password = f"h5jobs_role_{suffix}", f"h5jobs_drill_{suffix}", secrets.token_hex(8)
    admin = psycopg.connect(
        host=here["HOST"] or "localhost",
        port=here["PORT"] or 5432,
        user=here["USER"],
        password=here["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")  # createuser's defaults
    admin.execute(f"CREATE DATABASE {name} OWNER {role}")
    where = f"{here['HOST'] or 'localhost'}:{here['PORT'] or 5432}"
    url = f"postgresql://{role}:{password}@{where}/{name}"
    try:
        yield role, name, url, admin
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        for (leftover,) in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'gallra_restore_drill_%%' "
            "AND pg_get_userbyid(datdba) = %s",
            [role],
        ).fetchall():
            admin.execute(f'DROP DATABASE IF EXISTS "{leftover}" WITH (FORCE)')
        admin.execute(f"DROP ROLE IF EXISTS {role}")
        admin.close()


def test_on_production_postgresql_the_drill_needs_createdb_and_says_so(
    production_role, smtp, settings, tmp_path
):
    import psycopg

    role, name, url, admin = production_role
    gallra = Gallra(tmp_path / "data")
    password = tmp_path / "restic-password"
    password.write_text("korrekt häst batteri häftklammer\n")
    password.chmod(0o600)
    gallra.env.update(
        {
            "GALLRA_DATABASE_URL": url,
            "GALLRA_BACKUP_REPOSITORY": str(tmp_path / "repository"),
            "GALLRA_BACKUP_PASSWORD_FILE": str(password),
            "GALLRA_SMTP_HOST": "127.0.0.1",
            "GALLRA_SMTP_PORT": str(settings.EMAIL_PORT),
            "GALLRA_SERVER_COUNTRY": "SE",
            "GALLRA_ENFORCE_ARMED": "1",
            "GALLRA_ENFORCE_TIME": "00:00",
        }
    )
    gallra.run("init")
    gallra.run("staff", "add", "tekniker", "--role", "technician", "--email", TECHNICIAN)
    gallra.run("backup", "init")
    cheapen_key(tmp_path / "repository", password)

    # Beforehand: `gallra check` says what the drill needs.
    checked = gallra.run("check", check=False)
    assert checked.returncode == 1
    assert (
        f"FAIL  restore drill: the database role {role} may not create databases, and the "
        "drill restores each backup into a scratch database: give it CREATEDB "
        f"(ALTER ROLE {role} CREATEDB; docs/backups.md)"
    ) in checked.stdout
    assert "the restore drill cannot run" in checked.stderr

    # The daily run of `gallra serve`: the backup works, the drill fails in one line.
    daily = gallra.run(
        "django", "shell", "-c", "from gallra.instance.schedule import run_if_due; run_if_due()"
    )
    expected = (
        f"the database role {role} may not create the restore drill's scratch "
        f"database: give it CREATEDB (ALTER ROLE {role} CREATEDB; docs/backups.md)"
    )
    assert daily.stderr.strip().splitlines() == [
        f"gallra: daily job drill failed: {expected} (tried again in an hour)"
    ]
    # By hand: exit 1, the same line, no traceback.
    verify = gallra.run("backup", "verify", check=False)
    assert verify.returncode == 1
    assert verify.stderr.strip() == f"gallra backup: {expected}"

    with psycopg.connect(url) as db:
        found = db.execute(
            "SELECT action, data FROM evidence_entry WHERE action IN "
            "('backup', 'backup_failed', 'backup_verified', "
            "'backup_verify_failed') ORDER BY seq"
        ).fetchall()
        daily_runs = dict(db.execute("SELECT job, outcome FROM retention_dailyrun").fetchall())
    assert [a for a, _ in found] == ["backup", "backup_verify_failed", "backup_verify_failed"]
    assert all(d["problems"] == [expected] for a, d in found if a == "backup_verify_failed")
    assert daily_runs == {
        "enforce": "ok",
        "tasks": "ok",
        "residency": "ok",
        "incidents": "ok",
        "backup": "ok",
        "drill": "failed",
    }
    assert len(smtp.messages) == 2
    for to, subject, body in smtp.messages:
        assert to == [TECHNICIAN]
        assert subject == "gallra: Kontrollen av säkerhetskopian misslyckades"
        assert expected in body

    # What the documents say to do, done: the check passes that line and the drill works.
    admin.execute(f"ALTER ROLE {role} CREATEDB")
    checked = gallra.run("check", check=False)
    assert f"ok    restore drill: the database role {role} may create its scratch database" in (
        checked.stdout
    )
    verified = gallra.run("backup", "verify")
    assert verified.stdout.startswith("verified: snapshot ")
