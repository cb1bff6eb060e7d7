"""Three real databases a provider might run beside gallra, declared as datasets.

* PostgreSQL "shop": customers -> orders -> order lines, and invoices the law keeps;
* MariaDB "support": tickets with messages, one ticket shared with another person;
* SQLite "crm": contacts with personnummer, and notes of calls.

Each test gets fresh databases (unique names, dropped afterwards) and a policy file that is
the JufCorp policy plus their declaration.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from stdnum.luhn import calc_check_digit

from gallra import config
from gallra.registry.importing import import_document

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MARIADB_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/test"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def personnummer(base: str) -> str:
    """A valid personnummer "YYYYMMDD-NNN?" with the right check digit for `base` (YYYYMMDDNNN)."""
    return f"{base[:8]}-{base[8:]}{calc_check_digit(base[2:])}"


ANNA = {"email": "anna.berg@kund.example", "name": "Anna Berg", "pnr": personnummer("19811218987")}
BO = {
    "email": "bo.ek@kund.example",
    "name": "Bo Ek",
    "pnr": personnummer("19700101123"),
    "phone": "070-111 22 33",
}

DATASETS = """
[[dataset]]
id = "shop"
name = { sv = "Webbutiken", en = "The web shop" }
url_env = "GALLRA_TEST_SHOP_URL"
country = "SE"

[[dataset.table]]
name = "customers"
identity = { email = "email", name = "name" }
columns = { email = "customer_contact", name = "customer_contact", phone = "customer_contact" }
since = "created"
owner = { record = "customer", column = "customer_ref" }
erase = "delete"

[[dataset.table]]
name = "orders"
via = { table = "customers", column = "customer_id" }
columns = { delivery_name = "customer_contact", delivery_address = "customer_contact" }
since = "created"
erase = "overwrite"
set = { delivery_name = "[raderad]" }
set_null = ["delivery_address", "customer_id"]

[[dataset.table]]
name = "order_lines"
via = { table = "orders", column = "order_id" }
columns = { gift_message = "customer_contact" }
text = ["gift_message"]
erase = "overwrite"
set_null = ["gift_message"]

[[dataset.table]]
name = "invoices"
identity = { buyer_email = "email" }
columns = { buyer_email = "accounting_records", buyer_name = "accounting_records" }
erase = "keep"
kept_by = "accounting-records"
dated_by = "fiscal_year_end"

[[dataset]]
id = "support"
name = { sv = "Ärendesystemet", en = "The ticket system" }
url_env = "GALLRA_TEST_SUPPORT_URL"
country = "SE"

[[dataset.table]]
name = "tickets"
identity = { requester_email = "email", requester_name = "name" }
since = "created"
owner = { record = "customer", column = "customer_ref" }
erase = "delete"

[dataset.table.columns]
requester_email = "customer_contact"
requester_name = "customer_contact"
title = "requests"

[[dataset.table]]
name = "messages"
via = { table = "tickets", column = "ticket_id" }
identity = { author_email = "email", author_name = "name" }
columns = { author_email = "customer_contact", author_name = "customer_contact", body = "requests" }
text = ["body"]
erase = "delete"

[[dataset]]
id = "crm"
name = "CRM"
url_env = "GALLRA_TEST_CRM_URL"
country = "SE"

[[dataset.table]]
name = "contacts"
identity = { email = "email", pnr = "personnummer", full_name = "name" }
lowercase_match = true    # the CRM keeps e-mails as typed
columns = { email = "customer_contact", pnr = "customer_contact", full_name = "customer_contact" }
owner = { record = "customer", column = "customer_ref" }
erase = "delete"

[[dataset.table]]
name = "calls"
via = { table = "contacts", column = "contact_id" }
columns = { note = "requests" }
text = ["note"]
erase = "delete"
"""

SHOP = """
CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(200) NOT NULL,
    name VARCHAR(200), phone VARCHAR(40), created DATE, customer_ref VARCHAR(100));
CREATE INDEX customers_email ON customers (email);
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT REFERENCES customers (id),
    delivery_name VARCHAR(200), delivery_address VARCHAR(400), created DATE);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE order_lines (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES orders (id),
    product VARCHAR(200), gift_message TEXT);
CREATE INDEX order_lines_order ON order_lines (order_id);
CREATE TABLE invoices (id BIGINT PRIMARY KEY, buyer_email VARCHAR(200), buyer_name VARCHAR(200),
    amount NUMERIC(12, 2), fiscal_year_end DATE);
CREATE INDEX invoices_email ON invoices (buyer_email);
"""
SUPPORT = """
CREATE TABLE tickets (id BIGINT PRIMARY KEY, requester_email VARCHAR(200),
    requester_name VARCHAR(200), title VARCHAR(200), created DATE,
    customer_ref VARCHAR(100)) ENGINE=InnoDB;
CREATE INDEX tickets_email ON tickets (requester_email);
CREATE TABLE messages (id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL,
    author_email VARCHAR(200), author_name VARCHAR(200), body TEXT,
    FOREIGN KEY (ticket_id) REFERENCES tickets (id)) ENGINE=InnoDB;
CREATE INDEX messages_email ON messages (author_email);
"""
CRM = """
CREATE TABLE contacts (id INTEGER PRIMARY KEY, email TEXT, pnr TEXT, full_name TEXT,
    customer_ref TEXT);
CREATE INDEX contacts_email ON contacts (lower(email));
CREATE INDEX contacts_pnr ON contacts (pnr);
CREATE TABLE calls (id INTEGER PRIMARY KEY, contact_id INTEGER NOT NULL REFERENCES contacts (id),
    note TEXT);
"""


def rows_of(a, b) -> dict[str, list[dict]]:
    return {
        "customers": [
            {
                "id": 1,
                "email": a["email"],
                "name": a["name"],
                "phone": "08-123 45",
                "created": "2024-01-10",
            },
            {
                "id": 2,
                "email": b["email"],
                "name": b["name"],
                "phone": b["phone"],
                "created": "2024-02-11",
            },
        ],
        "orders": [
            {
                "id": 10,
                "customer_id": 1,
                "delivery_name": a["name"],
                "delivery_address": "Storgatan 1",
                "created": "2025-03-01",
            },
            {
                "id": 11,
                "customer_id": 1,
                "delivery_name": a["name"],
                "delivery_address": "Storgatan 1",
                "created": "2025-04-01",
            },
            {
                "id": 20,
                "customer_id": 2,
                "delivery_name": b["name"],
                "delivery_address": "Lillgatan 2",
                "created": "2025-05-01",
            },
        ],
        "order_lines": [
            {"id": 100, "order_id": 10, "product": "Server", "gift_message": "Grattis!"},
            {"id": 101, "order_id": 10, "product": "Disk", "gift_message": None},
            {"id": 110, "order_id": 11, "product": "Backup", "gift_message": "Till Anna"},
            {"id": 200, "order_id": 20, "product": "Server", "gift_message": "Till Bo"},
        ],
        "invoices": [
            {
                "id": 1000,
                "buyer_email": a["email"],
                "buyer_name": a["name"],
                "amount": "100.00",
                "fiscal_year_end": "2025-12-31",
            },
            {
                "id": 2000,
                "buyer_email": b["email"],
                "buyer_name": b["name"],
                "amount": "200.00",
                "fiscal_year_end": "2025-12-31",
            },
        ],
        "tickets": [
            {
                "id": 1,
                "requester_email": a["email"],
                "requester_name": a["name"],
                "title": "Kan inte logga in",
                "created": "2026-01-05",
            },
            {
                "id": 2,
                "requester_email": b["email"],
                "requester_name": b["name"],
                "title": "Fakturafråga",
                "created": "2026-01-06",
            },
        ],
        "messages": [
            {
                "id": 10,
                "ticket_id": 1,
                "author_email": a["email"],
                "author_name": a["name"],
                "body": f"Hej! Jag och {b['name']} ({b['email']}) kommer inte in. "
                f"Mitt personnummer är {a['pnr']}.",
            },
            {
                "id": 11,
                "ticket_id": 1,
                "author_email": b["email"],
                "author_name": b["name"],
                "body": f"Samma för mig, ring {b['phone']}. Mitt nummer är {b['pnr']}.",
            },
            {
                "id": 12,
                "ticket_id": 1,
                "author_email": "support@redcloud.example",
                "author_name": "Support",
                "body": "Vi tittar på det.",
            },
            {
                "id": 20,
                "ticket_id": 2,
                "author_email": b["email"],
                "author_name": b["name"],
                "body": "Fakturan är fel.",
            },
            {
                "id": 21,
                "ticket_id": 2,
                "author_email": a["email"],
                "author_name": a["name"],
                "body": f"Jag svarar för {b['name']} medan hen är borta.",
            },
        ],
        "contacts": [
            {"id": 1, "email": a["email"].upper(), "pnr": a["pnr"], "full_name": a["name"]},
            {"id": 2, "email": b["email"], "pnr": b["pnr"], "full_name": b["name"]},
        ],
        "calls": [
            {"id": 1, "contact_id": 1, "note": f"Anna ringde om {b['name']}s konto."},
            {"id": 2, "contact_id": 2, "note": "Bo ringde."},
        ],
    }


TABLES = {
    "shop": ["customers", "orders", "order_lines", "invoices"],
    "support": ["tickets", "messages"],
    "crm": ["contacts", "calls"],
}


def _fill(engine: sa.Engine, ddl: str, tables: list[str], rows: dict) -> None:
    import datetime as dt

    with engine.begin() as conn:
        for statement in filter(str.strip, ddl.split(";")):
            conn.execute(sa.text(statement))
        for table in tables:
            data = [
                {
                    k: dt.date.fromisoformat(v) if k in ("created", "fiscal_year_end") else v
                    for k, v in row.items()
                }
                for row in rows[table]
            ]
            columns = list(data[0])
            t = sa.table(table, *(sa.column(c) for c in columns))
            conn.execute(sa.insert(t), data)


@dataclass
class Connected:
    urls: dict[str, str]
    engines: dict[str, sa.Engine]
    policy_path: Path

    def rows(self, store: str, table: str) -> dict:
        with self.engines[store].connect() as conn:
            result = conn.execute(sa.text(f"SELECT * FROM {table}"))  # noqa: S608 (test tables)
            return {r["id"]: dict(r) for r in result.mappings()}

    def snapshot(self) -> dict:
        return {(s, t): self.rows(s, t) for s, tables in TABLES.items() for t in tables}


@pytest.fixture
def connected(tmp_path, monkeypatch):
    name = f"gallra_ds_{secrets.token_hex(4)}"
    pg_admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    my_admin = sa.create_engine(MARIADB_ADMIN, isolation_level="AUTOCOMMIT")
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    with my_admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}`"))
    urls = {
        "shop": f"postgresql://postgres@127.0.0.1:5432/{name}",
        "support": f"mysql://root@127.0.0.1:3306/{name}",
        "crm": f"sqlite:///{tmp_path / 'crm.sqlite3'}",
    }
    engines = {
        "shop": sa.create_engine(urls["shop"].replace("postgresql:", "postgresql+psycopg:")),
        "support": sa.create_engine(urls["support"].replace("mysql:", "mysql+pymysql:")),
        "crm": sa.create_engine(urls["crm"]),
    }
    rows = rows_of(ANNA, BO)
    _fill(engines["shop"], SHOP, TABLES["shop"], rows)
    _fill(engines["support"], SUPPORT, TABLES["support"], rows)
    _fill(engines["crm"], CRM, TABLES["crm"], rows)
    for store, url in urls.items():
        monkeypatch.setenv(f"GALLRA_TEST_{store.upper()}_URL", url)
    policy = tmp_path / "policy.toml"
    policy.write_text(config.DEFAULT_POLICY.read_text(encoding="utf-8") + DATASETS)
    monkeypatch.setenv("GALLRA_POLICY", str(policy))
    yield Connected(urls, engines, policy)
    from gallra.datasets import sources

    for key in [k for k in sources._engines if name in k[1] or str(tmp_path) in k[1]]:
        sources._engines.pop(key).dispose()
    for engine in engines.values():
        engine.dispose()
    with pg_admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    with my_admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE `{name}`"))
    pg_admin.dispose()
    my_admin.dispose()


@pytest.fixture
def registry(db):
    """Anna in gallra too: a user and billing contact with an account, an invoice, a mail."""
    import_document(
        {
            "customers": [
                {
                    "ref": "C-1",
                    "name": "Kund AB",
                    "agreements": [{"ref": "AG-1", "start": "2020-01-01", "end": None}],
                    "people": [
                        {
                            "ref": "P-anna",
                            "first_name": "Anna",
                            "last_name": "Berg",
                            "email": ANNA["email"],
                            "roles": ["user", "billing_contact"],
                        },
                        {
                            "ref": "P-bo",
                            "first_name": "Bo",
                            "last_name": "Ek",
                            "email": BO["email"],
                            "roles": ["user"],
                        },
                    ],
                    "accounts": [
                        {
                            "ref": "A-anna",
                            "person": "P-anna",
                            "username": "anna",
                            "opened": "2021-01-01",
                        },
                        {"ref": "A-bo", "person": "P-bo", "username": "bo", "opened": "2021-01-01"},
                    ],
                    "invoices": [
                        {
                            "ref": "F-1",
                            "number": "2025-1",
                            "issued": "2025-02-01",
                            "fiscal_year_end": "2025-12-31",
                            "amount": "100.00",
                            "billing_contact": "P-anna",
                            "buyer_address": "Box 1",
                        },
                    ],
                }
            ],
            "correspondence": [
                {
                    "ref": "M-anna",
                    "received": "2026-02-20",
                    "customer": "C-1",
                    "sender": ANNA["email"].upper(),
                    "subject": "Fråga om lagring",
                },
                {
                    "ref": "M-bo",
                    "received": "2026-02-21",
                    "customer": "C-1",
                    "sender": BO["email"],
                    "subject": "Annan fråga",
                },
            ],
        }
    )
