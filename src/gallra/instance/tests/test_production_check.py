"""`gallra check` is the production checklist (issue 19): an instance set up as
docs/production.md says passes it, and each piece taken away fails it, naming the piece and
what to do. The front page shows the same failing items in red.

The settings come from docs/production.md itself: the settings file it shows is what the
instance here is given (its paths moved into a temporary folder, the suite's own database
instead of its URL), so a setting the page leaves out fails the first test.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from gallra import config
from gallra.backups.models import BackupRun
from gallra.backups.tests.conftest import cheapen_key
from gallra.instance import checklist
from gallra.instance.staff import mail_staff
from gallra.instance.tests.conftest import gallra_script
from gallra.tests.examples import ROOT

PRODUCTION = ROOT / "docs" / "production.md"
# How settings.py turns each setting into a Django setting at start-up, and its default.
DERIVED = {
    "GALLRA_ALLOWED_HOSTS": (
        "ALLOWED_HOSTS",
        lambda v: [h.strip() for h in v.split(",")],
        "127.0.0.1,localhost",
    ),
    "GALLRA_HTTPS": ("GALLRA_HTTPS", lambda v: v == "1", ""),
    "GALLRA_BASE_URL": ("GALLRA_BASE_URL", str, "http://127.0.0.1:8000"),
    "GALLRA_BACKUP_REPOSITORY": ("GALLRA_BACKUP_REPOSITORY", str, ""),
    "GALLRA_BACKUP_PASSWORD_FILE": ("GALLRA_BACKUP_PASSWORD_FILE", str, ""),
    "GALLRA_SMTP_HOST": ("EMAIL_HOST", str, "127.0.0.1"),
    "GALLRA_MAIL_FROM": ("DEFAULT_FROM_EMAIL", str, "gallra@localhost"),
}


def documented_settings() -> dict[str, str]:
    """The settings file of docs/production.md: the ```sh block that sets GALLRA_BASE_URL."""
    text = PRODUCTION.read_text(encoding="utf-8")
    for block in re.findall(r"^```sh\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        found = [config.ENV_LINE.fullmatch(line.strip()) for line in block.splitlines()]
        values = {m[1]: m[2] for m in found if m}
        if "GALLRA_BASE_URL" in values:
            return values
    raise AssertionError("docs/production.md shows no settings file with GALLRA_BASE_URL")


def check(*args: str) -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("check", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def failing(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("FAIL")]


def line_of(text: str, what: str) -> str:
    [line] = [x for x in text.splitlines() if x[6:].startswith(what + ":")]
    return line


class Instance:
    """The instance of docs/production.md, in `root` (its /srv)."""

    def __init__(self, root: Path, settings, monkeypatch) -> None:
        self.root, self.settings, self.monkeypatch = root, settings, monkeypatch
        self.data = root / "gallra"
        self.values = {
            name: value.replace("/srv/", f"{root}/")
            for name, value in documented_settings().items()
            if name != "GALLRA_DATABASE_URL"  # the suite's database stands in for it
        }

    def set(self, name: str, value: str | None) -> None:
        """The setting as a process started with it sees it (settings.py, at start-up)."""
        if value is None:
            self.monkeypatch.delenv(name, raising=False)
        else:
            self.monkeypatch.setenv(name, value)
        if name in DERIVED:
            django_name, derive, default = DERIVED[name]
            setattr(self.settings, django_name, derive(default if value is None else value))

    def set_up(self, made: tuple[Path, Path] | None = None) -> None:
        """What docs/production.md does, in order, up to the first night. `made`: a
        repository and its password file made once (restic's `init` takes seconds)."""
        self.data.mkdir(mode=0o700, parents=True)
        self.settings.GALLRA_DATA = self.data
        self.monkeypatch.setenv("GALLRA_DATA", str(self.data))
        env = self.data / config.ENV_FILE_NAME
        env.touch(mode=0o600)
        env.write_text("".join(f"{n}={v}\n" for n, v in self.values.items()))
        for name, value in self.values.items():
            self.set(name, value)
        password = Path(self.values["GALLRA_BACKUP_PASSWORD_FILE"])
        password.touch(mode=0o600)
        repository = Path(self.values["GALLRA_BACKUP_REPOSITORY"])
        repository.parent.mkdir(parents=True, exist_ok=True)
        if made is None:
            password.write_text(secrets.token_urlsafe(32) + "\n")
            call_command("backup", "init", stdout=io.StringIO())
            cheapen_key(repository, password)
        else:
            password.write_bytes(made[1].read_bytes())
            shutil.copytree(made[0], repository)
        shares = self.root / "shares"
        call_command("logins", "escrow", "init", "--out", str(shares), stdout=io.StringIO())
        call_command("enforce", "--arm", "--lang", "en", stdout=io.StringIO())

    def last_night(self, hours: float = 5) -> None:
        """The first night's backup and drill, as `gallra serve` records them."""
        at = timezone.now() - timedelta(hours=hours)
        for kind in (BackupRun.Kind.BACKUP, BackupRun.Kind.VERIFY):
            BackupRun.objects.create(
                kind=kind, started=at, finished=at, ok=True, snapshot="5d0c1a2b" * 8
            )


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, Path]:
    """A restic repository and its password file, made once for the module's tests."""
    folder = tmp_path_factory.mktemp("made")
    password = folder / "password"
    password.write_text(secrets.token_urlsafe(32) + "\n")
    environment = {"RESTIC_REPOSITORY": str(folder / "repository")}
    environment |= {"RESTIC_PASSWORD_FILE": str(password), "PATH": os.environ["PATH"]}
    subprocess.run(["restic", "init"], env=environment, capture_output=True, check=True)  # noqa: S607
    cheapen_key(folder / "repository", password)
    return folder / "repository", password


@pytest.fixture
def instance(db, settings, monkeypatch, tmp_path, made) -> Instance:
    found = Instance(tmp_path / "srv", settings, monkeypatch)
    found.set_up(made)
    found.last_night()
    return found


def assert_fails_naming(*words: str, item: str) -> str:
    text, failed = check()
    assert failed is not None and failed.returncode == 1, text
    line = line_of(text, item)
    assert line.startswith("FAIL"), line
    for word in words:
        assert word in line, (word, line)
    return line


# -- the documented instance passes --------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # a real backup: SQLite's online copy, or pg_dump
def test_an_instance_set_up_as_the_documents_say_passes(settings, monkeypatch, tmp_path):
    instance = Instance(tmp_path / "srv", settings, monkeypatch)
    assert {
        "GALLRA_ALLOWED_HOSTS",
        "GALLRA_BASE_URL",
        "GALLRA_HTTPS",
        "GALLRA_SERVER_COUNTRY",
        "GALLRA_BACKUP_REPOSITORY",
        "GALLRA_BACKUP_PASSWORD_FILE",
    } <= set(instance.values)
    instance.set_up()
    call_command("backup", "run", stdout=io.StringIO())
    call_command("backup", "verify", stdout=io.StringIO())

    with jobs_done(instance):
        text, failed = check()
        assert failed is None, text
        assert failing(text) == []
        if connection.vendor == "postgresql":
            assert line_of(text, "job workers") == "ok    job workers: 1 alive"
        _passes_the_rest(instance, text)


def _passes_the_rest(instance: Instance, text: str) -> None:
    env = instance.data / "env"
    assert line_of(text, "public address (GALLRA_BASE_URL)") == (
        f"ok    public address (GALLRA_BASE_URL): https://gallra.example.se (from {env})"
    )
    assert f"ok    server country (GALLRA_SERVER_COUNTRY): SE (from {env})" in text
    assert "ok    backup repository reachable: restic opens it with the password" in text
    assert line_of(text, "escrow key (staff logins)").startswith("ok")
    if connection.vendor == "postgresql":
        assert line_of(text, "restore drill").startswith("ok")
    text, failed = check("--deploy")  # production, strictly: it is
    assert failed is None, text
    out = io.StringIO()
    call_command("check", "--format", "json", stdout=out)
    found = json.loads(out.getvalue())
    assert found["ok"] is True and found["problems"] == []
    assert "last restore drill" in [c["what"] for c in found["checks"]]


# -- each piece taken away fails, naming it ------------------------------------------------------


def test_settings_readable_by_every_user_fail(instance):
    (instance.data / "env").chmod(0o644)
    assert_fails_naming(
        f"chmod 600 {instance.data / 'env'}", item=f"settings file {instance.data / 'env'}"
    )


def test_a_settings_file_with_a_line_that_is_no_setting_fails(instance):
    env = instance.data / "env"
    env.write_text(env.read_text() + "BACKUP_REPOSITORY=/srv/backup\n")
    assert_fails_naming("not a gallra setting", item=f"settings file {env}")


def test_a_settings_file_this_process_cannot_read_fails_in_one_line(instance, monkeypatch):
    """Run as root here, so the refusal a `gallra` user would meet is made for it."""
    env = instance.data / "env"
    read = Path.read_text

    def refused(path: Path, *args, **kwargs) -> str:
        if path == env:
            raise PermissionError(13, "Permission denied", str(path))
        return read(path, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", refused)
    line = assert_fails_naming("cannot be read (Permission denied)", item=f"settings file {env}")
    assert "readable by the user gallra runs as" in line
    with pytest.raises(config.ConfigError, match="cannot be read"):  # serve's start: one line
        config.load_env_file(instance.data)


def test_no_public_address_fails_the_links_lead_to_loopback(instance):
    instance.set("GALLRA_BASE_URL", None)
    line = assert_fails_naming(
        "http://127.0.0.1:8000",
        "privacy notice",
        "GALLRA_BASE_URL=https://gallra.example.se",
        item="public address (GALLRA_BASE_URL)",
    )
    assert "loopback" in line


def test_a_plain_http_public_address_fails_behind_https(instance):
    instance.set("GALLRA_BASE_URL", "http://gallra.example.se")
    assert_fails_naming(
        "GALLRA_BASE_URL=https://gallra.example.se", item="public address (GALLRA_BASE_URL)"
    )


def test_a_public_address_the_site_does_not_answer_to_fails(instance):
    instance.set("GALLRA_BASE_URL", "https://integritet.example.se")
    assert_fails_naming(
        "integritet.example.se", "GALLRA_ALLOWED_HOSTS", item="public address (GALLRA_BASE_URL)"
    )


def test_no_https_fails(instance):
    instance.set("GALLRA_HTTPS", None)
    assert_fails_naming("GALLRA_HTTPS=1", "TLS proxy", item="HTTPS (GALLRA_HTTPS)")


def test_no_server_country_fails(instance):
    instance.set("GALLRA_SERVER_COUNTRY", None)
    assert_fails_naming(
        "not declared", "GALLRA_SERVER_COUNTRY", item="server country (GALLRA_SERVER_COUNTRY)"
    )


def test_a_server_outside_the_allowed_countries_fails(instance):
    instance.set("GALLRA_SERVER_COUNTRY", "US")
    assert_fails_naming("US is outside", item="server country (GALLRA_SERVER_COUNTRY)")


def test_no_escrow_key_fails_staff_logins_are_not_recorded(instance):
    from gallra.logins.models import Escrow

    Escrow.objects.all().delete()
    line = assert_fails_naming(
        "staff logins are not recorded",
        "gallra logins escrow init",
        item="escrow key (staff logins)",
    )
    assert "privacy notice" in line
    _, failed = check()
    assert "no escrow key" in str(failed)


def test_no_backup_repository_in_the_process_fails(instance):
    instance.set("GALLRA_BACKUP_REPOSITORY", None)
    assert_fails_naming(
        "daily backup",
        "GALLRA_BACKUP_REPOSITORY",
        str(instance.data / "env"),
        item="backup repository (GALLRA_BACKUP_REPOSITORY)",
    )


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("unset", "not set in this process"),
        ("missing", "does not exist"),
        ("empty", "is empty"),
        ("readable", "every user of the machine can read"),
    ],
)
def test_no_usable_backup_password_fails(instance, change, said):
    path = Path(instance.values["GALLRA_BACKUP_PASSWORD_FILE"])
    if change == "unset":
        instance.set("GALLRA_BACKUP_PASSWORD_FILE", None)
    elif change == "missing":
        path.unlink()
    elif change == "empty":
        path.write_text("")
    else:
        path.chmod(0o644)
    assert_fails_naming(said, item="backup password (GALLRA_BACKUP_PASSWORD_FILE)")


def test_a_repository_never_made_fails(instance, tmp_path):
    instance.set("GALLRA_BACKUP_REPOSITORY", str(tmp_path / "elsewhere"))
    assert_fails_naming("`gallra backup init` makes one", item="backup repository reachable")


def test_a_wrong_backup_password_fails(instance):
    Path(instance.values["GALLRA_BACKUP_PASSWORD_FILE"]).write_text("fel lösenord\n")
    assert_fails_naming("password is wrong", item="backup repository reachable")


def test_no_restic_fails(instance, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no program is found
    assert_fails_naming("restic is not installed", item="backup repository reachable")


def test_no_postgresql_client_programs_fail(instance, monkeypatch, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's backup needs no client programs")
    monkeypatch.setenv("PATH", str(tmp_path))
    assert_fails_naming(
        "pg_dump, pg_restore, psql", "postgresql-client", item="PostgreSQL client programs"
    )


def test_a_role_that_may_not_create_databases_fails(instance, monkeypatch):
    """backups/tests/test_drill_failures.py has it with a real role; here the check's line."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's drill restores into a folder")
    monkeypatch.setattr(checklist, "can_create_databases", lambda: False)
    assert_fails_naming("CREATEDB", item="restore drill")


def test_no_backup_since_the_night_before_last_fails(instance):
    BackupRun.objects.filter(kind=BackupRun.Kind.BACKUP).update(
        started=timezone.now() - timedelta(days=3), finished=timezone.now() - timedelta(days=3)
    )
    BackupRun.objects.create(
        kind=BackupRun.Kind.BACKUP,
        started=timezone.now() - timedelta(hours=3),
        ok=False,
        problem="no restic repository at /srv/backup/gallra: `gallra backup init` makes one",
    )
    assert_fails_naming(
        "over 2 days ago", "the last attempt failed: no restic repository", item="last backup"
    )


def test_no_backup_ever_fails(instance):
    BackupRun.objects.filter(kind=BackupRun.Kind.BACKUP).delete()
    assert_fails_naming("never", "gallra backup run", item="last backup")


def test_no_restore_drill_fails(instance):
    BackupRun.objects.filter(kind=BackupRun.Kind.VERIFY).delete()
    assert_fails_naming("never", "gallra backup verify", item="last restore drill")


def test_enforcement_not_armed_fails(instance):
    from gallra.retention.models import Arming

    Arming.objects.all().delete()
    assert_fails_naming("not armed", "gallra enforce --arm", item="enforcement")


def test_mail_that_does_not_go_out_fails(instance, monkeypatch):
    monkeypatch.setattr("gallra.instance.staff.deliver_now", lambda: None)  # the relay is down
    an_hour_ago = timezone.now() - timedelta(hours=1)
    mail_staff("gallra", "body", ["vd@redcloud.example"], kind="job_failed", now=an_hour_ago)
    assert_fails_naming("1 mail waiting", item="outgoing mail")


# -- the strict check, and a local instance ------------------------------------------------------


def test_a_local_instance_passes_without_a_public_address_but_not_as_production(instance, settings):
    instance.set("GALLRA_ALLOWED_HOSTS", "127.0.0.1,localhost")
    instance.set("GALLRA_BASE_URL", None)
    instance.set("GALLRA_HTTPS", None)
    with jobs_done(instance):
        text, failed = check()
    assert failed is None, text
    assert "a local instance, answering on this machine only" in line_of(
        text, "public address (GALLRA_BASE_URL)"
    )
    text, failed = check("--deploy")
    assert failed is not None and failed.returncode == 1
    assert line_of(text, "public address (GALLRA_BASE_URL)").startswith("FAIL")
    assert line_of(text, "HTTPS (GALLRA_HTTPS)").startswith("FAIL")


def test_a_broken_item_fails_by_itself_and_the_others_still_run(instance, monkeypatch):
    def broken(ctx):
        raise OSError("disk gone")

    monkeypatch.setattr(checklist, "ITEMS", [checklist.Check(broken), *checklist.ITEMS])
    text, failed = check()
    assert "FAIL  broken: OSError: disk gone" in text and failed.returncode == 1
    assert line_of(text, "escrow key (staff logins)").startswith("ok")


# -- the front page: the same items, as the server process sees them -----------------------------


def front_page(client, language: str = "en") -> str:
    """The admin's front page, reached as docs/production.md's proxy passes it on."""
    return client.get(
        "/admin/", HTTP_ACCEPT_LANGUAGE=language, HTTP_HOST="gallra.example.se", secure=True
    ).content.decode()


def test_the_front_page_shows_each_failing_item_in_red(instance, admin_client):
    with jobs_done(instance):  # the whole test: a worker is part of a passing page
        page = front_page(admin_client)
        assert 'id="dashboard-checklist"' not in page  # all passes: nothing to say

        instance.set("GALLRA_BACKUP_REPOSITORY", None)
        instance.set("GALLRA_BASE_URL", None)
        page = front_page(admin_client)
        panel = page[page.index('id="dashboard-checklist"') :]
        panel = panel[: panel.index("</section>")]
        rows = re.findall(r"<tr.*?</tr>", panel, re.DOTALL)
        assert len(rows) == 2 and all("dashboard-failed" in r for r in rows)
        assert "backup repository (GALLRA_BACKUP_REPOSITORY)" in rows[1]
        assert "the daily backup and its restore drill do not run" in rows[1]
        assert "public address (GALLRA_BASE_URL)" in rows[0] and "127.0.0.1:8000" in rows[0]

        page = front_page(admin_client, "sv")
        panel = page[page.index('id="dashboard-checklist"') :]
        assert "säkerhetskopi" in panel[: panel.index("</section>")].lower()


def jobs_done(instance: Instance):
    """On PostgreSQL a worker runs the jobs, as docs/production.md's unit starts it."""
    if connection.vendor == "postgresql":
        return worker_running(instance.data)
    return contextlib.nullcontext()


@contextlib.contextmanager
def worker_running(data: Path):
    """`gallra worker` on the suite's PostgreSQL database, alive until the block ends."""
    db = connection.settings_dict
    url = f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = os.environ | {"GALLRA_DATABASE_URL": url, "GALLRA_ENFORCE_TIME": "off"}
    env["GALLRA_DATA"] = str(data)
    keys = settings.GALLRA_KEYS  # the suite's own, given as the environment gives them
    env |= {
        config.KEY_NAMES["django_secret_key"]: keys.django_secret_key,
        config.KEY_NAMES["master_key"]: base64.b64encode(keys.master_key).decode(),
        config.KEY_NAMES["pseudonym_key"]: base64.b64encode(keys.pseudonym_key).decode(),
    }
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [gallra_script(), "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 60
        while not _alive():
            assert process.poll() is None, process.stdout.read().decode()
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def _alive() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM procrastinate_workers")
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db
def test_no_job_worker_fails_on_postgresql(instance):
    if connection.vendor != "postgresql":  # SQLite: `gallra serve` runs the jobs itself
        text, _failed = check()
        assert "job workers" not in text
        return
    assert_fails_naming("gallra worker", "docs/jobs.md", item="job workers")
