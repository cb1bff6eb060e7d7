"""Real sources for `gallra sync`: a private OpenLDAP slapd on loopback, a passwd file, and a
PostgreSQL billing database of the provider's own making (created and dropped per test).

The slapd is Debian's (scripts/setup.sh installs it for the tests); its tests are skipped only
when it is not installed. It never touches the system's own slapd: its configuration,
database and pid file are in a temporary folder, and it listens on a free loopback port.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from gallra import config

SBIN = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BASE_DN = "dc=kund,dc=example"
ROOT_DN = f"cn=admin,{BASE_DN}"
SCHEMAS = ("core", "cosine", "nis", "inetorgperson")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_sources(tmp_path: Path, monkeypatch, declarations: str) -> Path:
    """The JufCorp policy plus `declarations` ([[dataset]], [[source]]), as the policy."""
    policy = tmp_path / f"policy-{secrets.token_hex(3)}.toml"
    policy.write_text(config.DEFAULT_POLICY.read_text(encoding="utf-8") + declarations)
    monkeypatch.setenv("GALLRA_POLICY", str(policy))
    return policy


class Slapd:
    """A private slapd: start(), stop(), add(uid), remove(uid); people under ou=people."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.password_file = folder / "bind.password"
        self.password_file.write_text("hemligt-för-test\n")
        self.password_file.chmod(0o600)
        (folder / "db").mkdir()
        includes = "\n".join(f"include /etc/ldap/schema/{s}.schema" for s in SCHEMAS)
        (folder / "slapd.conf").write_text(
            f"{includes}\n"
            f"pidfile {folder}/slapd.pid\n"
            "modulepath /usr/lib/ldap\n"
            "moduleload back_mdb\n"
            "database mdb\n"
            f'suffix "{BASE_DN}"\n'
            f'rootdn "{ROOT_DN}"\n'
            f"rootpw hemligt-för-test\n"
            f"directory {folder}/db\n"
            "maxsize 10485760\n"
            "access to * by * read\n"
        )
        self.process: subprocess.Popen | None = None
        self.log = open(folder / "slapd.log", "ab")  # noqa: SIM115 (closed in close())

    def start(self) -> None:
        binary = shutil.which("slapd", path=SBIN)
        self.process = subprocess.Popen(  # noqa: S603 (Debian's slapd, fixed argv)
            [binary, "-f", str(self.folder / "slapd.conf"), "-h", f"{self.url}/", "-d", "0"],
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd stopped: {(self.folder / 'slapd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start listening within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None

    def close(self) -> None:
        self.stop()
        self.log.close()

    def _connection(self):
        import ldap3

        return ldap3.Connection(
            ldap3.Server(self.url),
            ROOT_DN,
            "hemligt-för-test",
            auto_bind=True,
            raise_exceptions=True,
        )

    def base(self) -> None:
        with self._connection() as conn:
            conn.add(BASE_DN, ["dcObject", "organization"], {"o": "Kund", "dc": "kund"})
            conn.add(f"ou=people,{BASE_DN}", ["organizationalUnit"], {"ou": "people"})
            conn.add(f"ou=groups,{BASE_DN}", ["organizationalUnit"], {"ou": "groups"})

    def add(self, uid: str, number: int) -> None:
        with self._connection() as conn:
            conn.add(
                f"uid={uid},ou=people,{BASE_DN}",
                ["inetOrgPerson", "posixAccount"],
                {
                    "uid": uid,
                    "cn": uid.title(),
                    "sn": uid.title(),
                    "uidNumber": number,
                    "gidNumber": number,
                    "homeDirectory": f"/home/{uid}",
                },
            )

    def remove(self, uid: str) -> None:
        with self._connection() as conn:
            conn.delete(f"uid={uid},ou=people,{BASE_DN}")

    def source(self, source_id: str = "katalog") -> str:
        return f"""
[[source]]
id = "{source_id}"
kind = "ldap"
url = "{self.url}"
base_dn = "ou=people,{BASE_DN}"
bind_dn = "{ROOT_DN}"
password_file = "{self.password_file}"
filter = "(objectClass=posixAccount)"
username_attribute = "uid"
"""


@pytest.fixture
def slapd(tmp_path):
    if shutil.which("slapd", path=SBIN) is None:
        pytest.skip("OpenLDAP's slapd is not installed (scripts/setup.sh --for-tests installs it)")
    folder = tmp_path / "slapd"
    folder.mkdir()
    server = Slapd(folder)
    server.start()
    try:
        server.base()
        yield server
    finally:
        server.close()


@dataclass
class Billing:
    """The provider's billing database on PostgreSQL, and its url."""

    name: str
    url: str
    engine: sa.Engine

    def run(self, *statements: str, **params) -> None:
        with self.engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement), params)


BILLING_DDL = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, orgnr TEXT, number TEXT);
CREATE TABLE contracts (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id),
    start_date DATE, end_date DATE, signed TEXT);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id),
    first_name TEXT, last_name TEXT, email TEXT, roles TEXT[], username TEXT, created DATE,
    photo BYTEA);
CREATE TABLE notes (id INTEGER PRIMARY KEY, customer_ref TEXT, email TEXT, body TEXT)
"""

BILLING_DATASET = """
[[dataset]]
id = "billing"
name = { sv = "Faktureringssystemet", en = "The billing system" }
url_env = "GALLRA_TEST_BILLING_URL"
country = "SE"

# Only the notes are weeded where they are (dataset retention); the tables the source reads
# stay as the billing system keeps them, so the records gallra deleted are still there.
[[dataset.table]]
name = "notes"
identity = { email = "email" }
owner = { record = "customer", column = "customer_ref" }
columns = { email = "customer_contact", body = "requests" }
erase = "delete"
"""

BILLING_SOURCE = """
[[source]]
id = "billing"
kind = "sql"
dataset = "billing"
customers = "SELECT id AS ref, name, orgnr AS org_number FROM customers ORDER BY id"
agreements = '''
    SELECT 'AG-' || id AS ref, customer_id AS customer, start_date AS start, end_date AS "end"
    FROM contracts ORDER BY id'''
people = '''
    SELECT 'P-' || id AS ref, customer_id AS customer, first_name, last_name, email, roles
    FROM contacts ORDER BY id'''
accounts = '''
    SELECT 'A-' || id AS ref, customer_id AS customer, 'P-' || id AS person, username,
           created AS opened
    FROM contacts WHERE username IS NOT NULL ORDER BY id'''
"""


@pytest.fixture
def billing(monkeypatch):
    name = f"gallra_sync_billing_{secrets.token_hex(4)}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    engine = sa.create_engine(url.replace("postgresql:", "postgresql+psycopg:"))
    with engine.begin() as conn:
        for statement in filter(str.strip, BILLING_DDL.split(";")):
            conn.execute(sa.text(statement))
    monkeypatch.setenv("GALLRA_TEST_BILLING_URL", url)
    yield Billing(name, url, engine)
    from gallra.datasets import sources

    for key in [k for k in sources._engines if name in k[1]]:
        sources._engines.pop(key).dispose()
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
