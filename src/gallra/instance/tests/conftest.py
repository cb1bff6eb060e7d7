"""Running the real `gallra` console script in a throwaway data directory.

The subprocess tests always run on a temporary SQLite data directory: GALLRA_DATABASE_URL is
removed from the child's environment, even in the PostgreSQL run of the suite, because
`gallra init` and `gallra demo` write to the database they are given and must never touch a
shared one. The in-process tests (pytest-django's test database) cover PostgreSQL.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

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
def gallra(tmp_path) -> Gallra:
    return Gallra(tmp_path / "data")
