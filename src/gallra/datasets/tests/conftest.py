"""Real databases for the datasets' retention tests, each test's own (unique names, dropped
afterwards): PostgreSQL and MariaDB on loopback, SQLite in tmp_path, and a policy file that is
the JufCorp policy plus their declaration."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from gallra import config

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIADB_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/mysql"
DATE_COLUMNS = ("created", "last_activity", "fiscal_year_end", "ends")


def fill(engine: sa.Engine, ddl: str, rows: dict[str, list[dict]]) -> None:
    """Create the tables of `ddl` and insert `rows` (table -> rows); ISO dates become dates."""
    with engine.begin() as conn:
        for statement in filter(str.strip, ddl.split(";")):
            conn.execute(sa.text(statement))
        for table, data in rows.items():
            data = [
                {
                    k: dt.date.fromisoformat(v) if k in DATE_COLUMNS and v else v
                    for k, v in row.items()
                }
                for row in data
            ]
            t = sa.table(table, *(sa.column(c) for c in data[0]))
            conn.execute(sa.insert(t), data)


def rows(engine: sa.Engine, table: str) -> dict:
    """id -> row (a dict) of everything in `table`."""
    with engine.connect() as conn:
        found = conn.execute(sa.text(f"SELECT * FROM {table}"))  # noqa: S608 (test tables)
        return {r["id"]: dict(r) for r in found.mappings()}


@dataclass
class Sources:
    """The test's databases, and the policy file that declares them."""

    tmp_path: Path
    monkeypatch: pytest.MonkeyPatch
    name: str = field(default_factory=lambda: secrets.token_hex(4))
    engines: dict[str, sa.Engine] = field(default_factory=dict)
    _cleanup: list = field(default_factory=list)

    def sqlite(self, dataset: str, ddl: str, data: dict) -> sa.Engine:
        url = f"sqlite:///{self.tmp_path / f'{dataset}.sqlite3'}"
        return self._add(dataset, url, url, ddl, data)

    def postgresql(self, dataset: str, ddl: str, data: dict) -> sa.Engine:
        db = f"gallra_ds_{dataset}_{self.name}"
        admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{db}"'))

        def drop():
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            admin.dispose()

        self._cleanup.append(drop)
        url = f"postgresql://postgres@127.0.0.1:5432/{db}"
        return self._add(
            dataset, url, f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}", ddl, data
        )

    def mariadb(self, dataset: str, ddl: str, data: dict) -> sa.Engine:
        """A database reached as a user of its own (`self.user(dataset)`), so that a test can
        lock that account to cut gallra off, and leave the server to everyone else."""
        db, user = f"gallra_ds_{dataset}_{self.name}", f"gallra_ds_{self.name}"
        admin = sa.create_engine(MARIADB_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f"CREATE DATABASE `{db}`"))
            for host in ("%", "localhost"):
                conn.execute(sa.text(f"CREATE USER '{user}'@'{host}' IDENTIFIED BY 'hemligt'"))
                conn.execute(sa.text(f"GRANT ALL ON `{db}`.* TO '{user}'@'{host}'"))

        def drop():
            with admin.connect() as conn:
                conn.execute(sa.text(f"DROP DATABASE IF EXISTS `{db}`"))
                for host in ("%", "localhost"):
                    conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'{host}'"))
            admin.dispose()

        self._cleanup.append(drop)
        self.mariadb_admin, self.mariadb_user = admin, user
        url = f"mysql://{user}:hemligt@127.0.0.1:3306/{db}"
        return self._add(dataset, url, f"mysql+pymysql://root@127.0.0.1:3306/{db}", ddl, data)

    def lock_mariadb(self, locked: bool = True) -> None:
        """Cut gallra's MariaDB account off (its open connections killed), or let it back."""
        with self.mariadb_admin.connect() as conn:
            for host in ("%", "localhost"):
                what = "LOCK" if locked else "UNLOCK"
                conn.execute(sa.text(f"ALTER USER '{self.mariadb_user}'@'{host}' ACCOUNT {what}"))
            if locked:
                ids = conn.execute(
                    sa.text("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = :u"),
                    {"u": self.mariadb_user},
                ).scalars()
                for pid in list(ids):
                    conn.execute(sa.text(f"KILL CONNECTION {int(pid)}"))

    def _add(self, dataset, url, admin_url, ddl, data) -> sa.Engine:
        engine = self.engines[dataset] = sa.create_engine(admin_url)
        fill(engine, ddl, data)
        self.monkeypatch.setenv(f"GALLRA_DS_{dataset.upper()}_URL", url)
        return engine

    def policy(self, declarations: str) -> Path:
        path = self.tmp_path / "policy.toml"
        path.write_text(config.DEFAULT_POLICY.read_text(encoding="utf-8") + declarations)
        self.monkeypatch.setenv("GALLRA_POLICY", str(path))
        return path

    def close(self) -> None:
        from gallra.datasets import sources

        for key in [k for k in sources._engines if self.name in k[1] or str(self.tmp_path) in k[1]]:
            sources._engines.pop(key).dispose()
        for engine in self.engines.values():
            engine.dispose()
        for drop in reversed(self._cleanup):
            drop()


@pytest.fixture
def databases(tmp_path, monkeypatch):
    found = Sources(tmp_path, monkeypatch)
    yield found
    found.close()
