"""Running the real `gallra` console script in a throwaway data directory.

The subprocess tests always run on a temporary SQLite data directory: GALLRA_DATABASE_URL is
removed from the child's environment, even in the PostgreSQL run of the suite, because
`gallra init` and `gallra demo` write to the database they are given and must never touch a
shared one. The in-process tests (pytest-django's test database) cover PostgreSQL.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from gallra import config

# Settings that would point the child at something other than its temporary data directory.
CLEARED = (
    "GALLRA_DATABASE_URL",
    "GALLRA_POLICY",
    "GALLRA_KEY_FILE",
    "GALLRA_SECRET_KEY",
    "GALLRA_MASTER_KEY",
    "GALLRA_PSEUDONYM_KEY",
    "GALLRA_DEBUG",
    "GALLRA_HTTPS",
    # where the server and its backups are: `gallra demo` declares its own
    "GALLRA_SERVER_COUNTRY",
    "GALLRA_BACKUP_REPOSITORY",
    "GALLRA_BACKUP_PASSWORD_FILE",
    "DJANGO_SETTINGS_MODULE",
)


def gallra_script() -> str:
    script = Path(sys.executable).with_name("gallra")
    return str(script) if script.exists() else shutil.which("gallra") or "gallra"


class Gallra:
    """`gallra ...` in its own process, with GALLRA_DATA set to `data`."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.env = {k: v for k, v in os.environ.items() if k not in CLEARED}
        self.env["GALLRA_DATA"] = str(data)

    def command(self, *args: str) -> list[str]:
        return [gallra_script(), *args]

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(  # noqa: S603 - our own console script
            self.command(*args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"gallra {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def query(self, sql: str, *params) -> list[tuple]:
        # closing(): sqlite3's own `with` only commits; a connection left for the garbage
        # collector would remove its -wal and -shm files at some later moment.
        with closing(sqlite3.connect(self.data / "gallra.sqlite3")) as db:
            return db.execute(sql, params).fetchall()


PASSWORD = re.compile(r"^\s*password:\s*(\S+)\s*$", re.MULTILINE)


def printed_password(output: str) -> str | None:
    found = PASSWORD.findall(output)
    assert len(found) <= 1, "the password was printed more than once"
    return found[0] if found else None


@pytest.fixture
def instance(settings, tmp_path, monkeypatch):
    """An empty data directory for an in-process `gallra init` (the test database)."""
    data = tmp_path / "instance"
    monkeypatch.setenv("GALLRA_DATA", str(data))
    for name in (*config.KEY_NAMES.values(), "GALLRA_POLICY"):
        monkeypatch.delenv(name, raising=False)
    settings.GALLRA_KEY_FILE = data / "keys.json"
    settings.GALLRA_KEYS = None
    return data


@pytest.fixture
def gallra(tmp_path) -> Gallra:
    return Gallra(tmp_path / "data")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(gallra: Gallra, log_path: Path, **env: str) -> Iterator[tuple[str, Path]]:
    """`gallra serve` on a free loopback port until the block ends: (base URL, its log)."""
    port = free_port()
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own console script
            gallra.command("serve", "--host", "127.0.0.1", "--port", str(port)),
            env=gallra.env | env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/admin/login/", timeout=2).close()  # noqa: S310
                    break
                except (urllib.error.URLError, ConnectionError):
                    if process.poll() is not None or time.monotonic() > deadline:
                        output = log_path.read_text()
                        raise AssertionError(f"gallra serve did not answer:\n{output}") from None
                    time.sleep(0.2)
            yield base, log_path
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def log_in(page, base: str, username: str, password: str, secret: str) -> None:
    """Staff login in a Playwright page, with the two-factor code of `secret` (staff/totp.py)."""
    from gallra.staff import totp

    page.goto(base + "/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.fill("#id_code", totp.code_at(secret, totp.now_step()))
    page.locator("#id_code").press("Enter")
    page.wait_for_url(base + "/admin/")


@pytest.fixture
def fresh_postgresql():
    """A database of its own on the machine's PostgreSQL, dropped afterwards."""
    import psycopg

    name = f"gallra_fresh_{secrets.token_hex(4)}"
    admin = psycopg.connect(
        host="127.0.0.1", port=5432, user="postgres", dbname="postgres", autocommit=True
    )
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


def policy_backing_up(folder: Path, megabytes: int) -> Path:
    """JufCorp's policy with a home directory of `megabytes` of random bytes to back up (a
    backup that takes long enough to be stopped in the middle); returns the policy file."""
    home = folder / "home"
    (home / "anna").mkdir(parents=True)
    (home / "anna" / "photos.bin").write_bytes(os.urandom(megabytes << 20))
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    assert 'countries = ["SE"]\n\n[logins]' in text
    policy = folder / "policy.toml"
    policy.write_text(
        text.replace(
            'countries = ["SE"]\n\n[logins]',
            f'countries = ["SE"]\ndirectories = ["{home}"]\n\n[logins]',
        ),
        encoding="utf-8",
    )
    return policy


def wait_until(check, what: str, timeout: float = 60, alive=lambda: True, logs=lambda: ""):
    """Poll `check` until it returns something true (returned); fail naming `what` and the
    processes' logs after `timeout` seconds, or at once when `alive()` says they ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if not alive():
            break
        time.sleep(0.02)
    raise AssertionError(f"waited for {what}\n{logs()}")
