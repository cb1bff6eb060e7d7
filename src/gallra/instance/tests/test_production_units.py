"""The systemd units of docs/production.md, each started as systemd would start it (issue 20).

systemd is not PID 1 where the tests run, so `Started` plays its part: the unit's ExecStart
with its Environment= and UMask=, in a clean environment, in a session of its own (the
unit's control group), stopped as its KillMode= and TimeoutStopSec= say. The units are read
from the page itself, and so is the settings file they are given (test_production_check.py
reads it the same way); /opt/gallra/.venv/bin/gallra is this venv's gallra, /srv and
/var/log are folders of the test, and port 8000 is a free one.

On a fresh PostgreSQL database: the web unit answers with as many processes as it asks for,
the worker unit is a live worker that does the day's jobs, the logins unit stores what the
log says, and SIGTERM stops each of them by itself, leaving no process behind, even in the
middle of the night's backup, which then still ends well. On SQLite, the one-unit variant.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from gallra import config
from gallra.backups.tests.conftest import cheapen_key
from gallra.instance.tests.conftest import free_port, gallra_script, policy_backing_up, wait_until
from gallra.instance.tests.test_production_check import PRODUCTION, documented_settings

UNIT = re.compile(
    r"`(/etc/systemd/system/[\w@.-]+\.service(?:\.d/[\w.-]+\.conf)?)`[^`\n]*\n\n```ini\n(.*?)^```",
    re.MULTILINE | re.DOTALL,
)
# What systemd gives a system service of User=gallra (home /srv/gallra, as the page's adduser).
SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STOP_LIMIT = 120  # seconds this test waits for a stop, whatever longer TimeoutStopSec allows
CLEAN = {0, -signal.SIGTERM, -signal.SIGINT, -signal.SIGHUP, -signal.SIGPIPE}  # as systemd


def unit_files() -> dict[str, str]:
    """Each file of /etc/systemd/system the page shows: its path and its text."""
    found = dict(UNIT.findall(PRODUCTION.read_text(encoding="utf-8")))
    assert found, "docs/production.md shows no systemd unit"
    return found


class Unit:
    """The [Service] section of a unit file, read as systemd reads it."""

    def __init__(self, path: str, text: str) -> None:
        self.name = Path(path).name
        self.settings: list[tuple[str, str]] = []
        section = None
        for line in text.splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            assert not line.endswith("\\"), f"{self.name}: a continued line: {line}"
            if line.startswith("["):
                section = line.strip("[]")
            elif section == "Service":
                key, _, value = line.partition("=")
                self.settings.append((key.strip(), value.strip()))

    def get(self, key: str, default: str = "") -> str:
        values = [v for k, v in self.settings if k == key]
        return values[-1] if values else default

    @property
    def command(self) -> list[str]:
        return shlex.split(self.get("ExecStart"))

    @property
    def environment(self) -> dict[str, str]:
        pairs = [w for k, v in self.settings if k == "Environment" for w in shlex.split(v)]
        return dict(p.split("=", 1) for p in pairs)

    @property
    def timeout_stop(self) -> float:
        """TimeoutStopSec= in seconds (systemd's default 90 s)."""
        value = self.get("TimeoutStopSec", "90s")
        units = {"": 1, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
        return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value))

    def option(self, name: str) -> str:
        words = self.command
        return words[words.index(name) + 1]


def units() -> dict[str, Unit]:
    return {Path(p).name: Unit(p, text) for p, text in unit_files().items() if ".d/" not in p}


def moved(text: str, root: Path) -> str:
    """A path of the page in the test's folders."""
    text = text.replace("/opt/gallra/.venv/bin/gallra", gallra_script())
    return text.replace("/srv/", f"{root}/").replace("/var/log/", f"{root}/log/")


def systemd_environment(root: Path, unit: Unit | None = None) -> dict[str, str]:
    """The environment systemd gives the unit: its own defaults, then Environment=."""
    found = {"PATH": SYSTEMD_PATH, "HOME": f"{root}/gallra", "LANG": "C.UTF-8"}
    found |= {"USER": "gallra", "LOGNAME": "gallra"}
    if unit is not None:
        found |= {name: moved(value, root) for name, value in unit.environment.items()}
    return found


def alive_in(group: int) -> list[int]:
    """Processes of a process group that have not ended: what systemd's cgroup still holds."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
            if int(pgrp) == group and state != "Z":
                found.append(int(entry.name))
    return found


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == pid:
                found.append(int(entry.name))
    return found


class Started:
    """A unit started as systemd starts it, and stopped as systemd stops it."""

    def __init__(self, unit: Unit, root: Path, **options: str) -> None:
        self.unit, self.root = unit, root
        command = [moved(w, root) for w in unit.command]
        for name, value in options.items():  # --port: a free one instead of the page's
            command[command.index(f"--{name}") + 1] = value
        self.log_path = root / f"{unit.name}.log"
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(  # noqa: S603 - the page's own command line
                command,
                env=systemd_environment(root, unit),
                cwd=moved(unit.get("WorkingDirectory", "/"), root),
                umask=int(unit.get("UMask", "0022"), 8),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its process group stands for its control group
            )

    def log(self) -> str:
        return f"--- {self.unit.name}\n{self.log_path.read_text()[-4000:]}"

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> tuple[int, list[int]]:
        """`systemctl stop`: SIGTERM to the main process alone (KillMode=mixed) or to every
        process of the unit (control-group, the default); SIGKILL to every process left once
        the main one has ended, or after TimeoutStopSec. Returns the main process's status
        and the processes that were left to kill (none, for a unit that stops cleanly)."""
        pid = self.process.pid
        if self.unit.get("KillMode", "control-group") == "mixed":
            os.kill(pid, signal.SIGTERM)
        else:
            os.killpg(pid, signal.SIGTERM)
        try:
            status = self.process.wait(timeout=min(self.unit.timeout_stop, STOP_LIMIT))
        except subprocess.TimeoutExpired:
            status = None
        left = alive_in(pid)
        if left:
            os.killpg(pid, signal.SIGKILL)
        if status is None:
            status = self.process.wait()
            raise AssertionError(f"{self.unit.name}: SIGTERM did not stop it\n{self.log()}")
        return status, left

    def kill(self) -> None:
        """Whatever the test left running."""
        if alive_in(self.process.pid):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def wait_for(what: str, check, started: list[Started], timeout: float = 90) -> object:
    return wait_until(
        check,
        what,
        timeout,
        alive=lambda: all(s.running() for s in started),
        logs=lambda: "\n".join(s.log() for s in started),
    )


def get(port: int, path: str) -> http.client.HTTPResponse | None:
    """A page as the page's proxy asks for it, over HTTPS for gallra.example.se."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        headers = {"Host": "gallra.example.se", "X-Forwarded-Proto": "https"}
        connection.request("GET", path, headers=headers | {"X-Forwarded-For": "198.51.100.7"})
        response = connection.getresponse()
        response.read()
        return response
    except OSError:
        return None


class Provider:
    """What docs/production.md has the provider make, in `root` (its /srv)."""

    def __init__(self, root: Path, database_url: str | None) -> None:
        self.root, self.data = root, root / "gallra"
        self.values = {
            name: value.replace("/srv/", f"{root}/")
            for name, value in documented_settings().items()
            if name != "GALLRA_DATABASE_URL"
        }
        if database_url:  # the page's database, made for this test
            self.values["GALLRA_DATABASE_URL"] = database_url
        self.data.mkdir(mode=0o700, parents=True)
        env = self.data / config.ENV_FILE_NAME
        env.touch(mode=0o600)
        env.write_text("".join(f"{n}={v}\n" for n, v in self.values.items()))
        (root / "log").mkdir()

    def gallra(self, *args: str) -> subprocess.CompletedProcess:
        """`gallra ...` by the page's wrapper: GALLRA_DATA=/srv/gallra and nothing else."""
        return self.at_once(args)[0]

    def at_once(self, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess]:
        """Commands that do not wait for each other, side by side (each starts Django)."""
        environment = systemd_environment(self.root) | {"GALLRA_DATA": str(self.data)}
        running = [
            subprocess.Popen(  # noqa: S603 - our own console script
                [gallra_script(), *args],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        done = []
        for args, process in zip(commands, running, strict=True):
            out, err = process.communicate(timeout=300)
            assert process.returncode == 0, f"gallra {' '.join(args)}\n{out}\n{err}"
            done.append(subprocess.CompletedProcess(args, 0, out, err))
        return done

    def backup_password(self) -> None:
        """The repository's password file and folder, as the page's Backups section makes
        them; `gallra backup init` then makes the repository."""
        password = Path(self.values["GALLRA_BACKUP_PASSWORD_FILE"])
        password.touch(mode=0o600)
        password.write_text(secrets.token_urlsafe(32) + "\n")
        Path(self.values["GALLRA_BACKUP_REPOSITORY"]).parent.mkdir(mode=0o700, parents=True)

    def jobs(self) -> dict:
        return json.loads(self.gallra("jobs", "list", "--format", "json").stdout)


def test_the_pages_units_run_gallra_as_it_says(gallra, fresh_postgresql, tmp_path):
    """`gallra` (the fixture) only marks this as a test of child processes; they have their
    own database, so the suite's PostgreSQL run leaves it to the SQLite run."""
    found = units()
    assert {"gallra-web.service", "gallra-worker.service", "gallra-logins.service"} <= set(found)
    for unit in found.values():  # "give them GALLRA_DATA=/srv/gallra and nothing else"
        assert unit.environment == {"GALLRA_DATA": "/srv/gallra"}, unit.name
        assert not unit.get("EnvironmentFile"), unit.name
        assert unit.get("Restart") == "always", unit.name
    web, worker, logins = (found[f"gallra-{n}.service"] for n in ("web", "worker", "logins"))
    nginx = re.search(r"```nginx\n(.*?)```", PRODUCTION.read_text(), re.DOTALL)[1]
    assert f"server {web.option('--host')}:{web.option('--port')};" in nginx  # the proxy's

    provider = Provider(tmp_path / "srv", fresh_postgresql)
    policy = policy_backing_up(tmp_path, 48)  # a backup that takes a while
    provider.gallra("init", "--policy", str(policy))
    provider.backup_password()
    provider.at_once(
        ("backup", "init"),
        ("logins", "escrow", "init", "--out", str(tmp_path / "shares")),
        ("jobs", "daily"),  # queued for the worker: today's jobs, now
    )
    cheapen_key(
        Path(provider.values["GALLRA_BACKUP_REPOSITORY"]),
        Path(provider.values["GALLRA_BACKUP_PASSWORD_FILE"]),
    )
    auth_log = provider.root / "log" / "auth.log"
    at = datetime.now(UTC).isoformat(timespec="microseconds")
    auth_log.write_text(
        f"{at} gallra1 sshd[1201]: Accepted publickey for deploy from 198.51.100.20 "
        "port 52311 ssh2: ED25519 SHA256:x\n"
    )

    db = psycopg.connect(fresh_postgresql, autocommit=True)
    port = free_port()
    web_unit = Started(web, provider.root, port=str(port))
    worker_unit = Started(worker, provider.root)
    logins_unit = Started(logins, provider.root)
    started = [web_unit, worker_unit, logins_unit]
    try:
        # The worker takes the queued run; SIGTERM in the middle of the backup lets it finish.
        wait_for(
            "the backup in progress",
            lambda: db.execute(
                "SELECT 1 FROM backups_backuprun WHERE kind = 'backup' AND finished IS NULL"
            ).fetchone(),
            started,
        )
        status, left = worker_unit.stop()
        assert status in CLEAN and not left, worker_unit.log()
        # Stopped, it says so: no job is left waiting for a worker that is gone.
        assert db.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0] == 0

        # Started again, as Restart=always would: a live worker in the queue, stopped idle.
        worker_unit = Started(worker, provider.root)
        started.append(worker_unit)
        running = [web_unit, worker_unit, logins_unit]
        wait_for(
            "the worker's heartbeat",
            lambda: db.execute("SELECT count(*) FROM procrastinate_workers").fetchone()[0],
            running,
        )
        jobs = provider.jobs()
        assert jobs["queue"]["workers"] >= 1
        done = {row["job"]: row["state"] for row in jobs["daily"]}  # the day the first one did
        assert done["backup"] == "ok" and done["drill"] == "ok", (done, worker_unit.log())
        assert done["enforce"] == "skipped"  # not armed: the page's first day deletes nothing
        assert done["residency"] == "ok" and done["tasks"] == "ok", done

        # The web: every process it asks for, answering over the proxy's HTTPS.
        answer = wait_for("the web unit to answer", lambda: get(port, "/privacy/"), running)
        assert answer.status == 200
        assert answer.getheader("Strict-Transport-Security")  # it read /srv/gallra/env
        processes = int(web.option("--workers"))
        assert processes > 1
        wait_for(
            f"{processes} web processes",
            lambda: len(children_of(web_unit.process.pid)) == processes,
            running,
        )

        # The logins: the log's line stored.
        wait_for(
            "the login event",
            lambda: db.execute("SELECT count(*) FROM logins_loginevent").fetchone()[0],
            running,
        )
        for unit in running:
            status, left = unit.stop()
            assert status in CLEAN and not left, unit.log()
    finally:
        for unit in started:
            unit.kill()
        db.close()


def test_on_sqlite_one_unit_serves_and_runs_the_jobs(gallra, tmp_path):
    unit = units()["gallra.service"]
    assert "--workers" not in unit.command
    provider = Provider(tmp_path / "srv", None)
    provider.gallra("init")
    port = free_port()
    started = Started(unit, provider.root, port=str(port))
    try:
        answer = wait_for("the unit to answer", lambda: get(port, "/privacy/"), [started])
        assert answer.status == 200
        assert children_of(started.process.pid) == []  # one process: the web and the jobs
        assert provider.jobs()["queue"] is None  # no queue: `gallra serve` runs the jobs
        status, left = started.stop()
        assert status in CLEAN and not left, started.log()
    finally:
        started.kill()


def test_systemd_reads_each_unit_without_a_word_of_complaint(tmp_path):
    """`systemd-analyze verify`, where it is installed, on a root with the units and gallra."""
    analyze = shutil.which("systemd-analyze")
    system = Path("/usr/lib/systemd/system")
    if analyze is None or not system.is_dir():
        pytest.skip("systemd-analyze is not installed here")
    root = tmp_path / "root"
    shutil.copytree(system, root / "usr/lib/systemd/system", symlinks=True)
    program = root / "opt/gallra/.venv/bin/gallra"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    files = unit_files()
    names = sorted(Path(p).name for p in files if ".d/" not in p)
    overrides = [p for p in files if ".d/" in p]
    assert overrides  # the second machine's web
    # The units as the first machine has them, then with the second machine's overrides.
    for written in ([p for p in files if p not in overrides], overrides):
        for path in written:
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(files[path])
        done = subprocess.run(  # noqa: S603
            [analyze, "verify", f"--root={root}", *names], capture_output=True, text=True
        )
        said = done.stdout + done.stderr
        assert done.returncode == 0 and not said, said
