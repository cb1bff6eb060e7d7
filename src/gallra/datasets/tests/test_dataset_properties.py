"""Property tests across every store: on random registries with a connected dataset, plan,
enforce and the policy text agree.

Each example imports a random registry (retention/tests/test_retention_properties.py's
generator: customers, agreements, people, accounts, invoices, prospects, holds on any of
them) and fills a SQLite dataset (docs/retention.md, "Connected datasets") whose rows belong
to random customers and prospects of it, to refs it never had, or to nobody:

* `tickets`: owner a customer, dated by `created` and `last_activity`;
* `messages`: by `via` to a ticket, no dating of its own (it goes with its ticket);
* `leads`: owner a prospect, dated by its own dates;
* `calls`: no owner, dated by `called_on` alone;
* `invoices`: kept by law (`accounting-records`, `dated_by` its financial year's end), owner
  a customer.

On a random date it checks, over the registry and the dataset together:

(a) what `plan` marks for deletion is exactly what `enforce` deletes;
(b) that is exactly what the policy text makes due (`oracle.py` for the registry;
    `dataset_outcome` below for the rows, written from retention.md, not from gallra's code);
(c) nothing held (a hold on the row's owner included) is deleted, nor anything the law
    keeps before its day;
(d) after `enforce`, a fresh plan for the same date finds nothing due anywhere;
(e) the evidence log verifies and its "delete" entries name each deleted record or row once.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from gallra import config
from gallra.datasets import sources
from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.retention.enforcement import enforce
from gallra.retention.planner import plan
from gallra.retention.stores import plan_all
from gallra.retention.tests import oracle
from gallra.retention.tests.test_retention_properties import (
    SPECIAL,
    contents,
    days,
    fiscal_year_ends,
    later,
    maybe,
    registries,
)

DATASET = """
[[dataset]]
id = "ops"
name = "Drift"
url_env = "GALLRA_DS_OPS_URL"
country = "SE"

[[dataset.table]]
name = "tickets"
identity = { email = "email" }
columns = { email = "customer_contact", title = "correspondence" }
owner = { record = "customer", column = "customer_ref" }
dates = { created = "created", last_activity = "last_activity" }
erase = "delete"

[[dataset.table]]
name = "messages"
via = { table = "tickets", column = "ticket_id" }
columns = { body = "correspondence" }
erase = "delete"

[[dataset.table]]
name = "leads"
identity = { email = "email" }
columns = { email = "sales_records" }
owner = { record = "prospect", column = "prospect_ref" }
dates = { created = "created", last_activity = "last_activity" }
erase = "delete"

[[dataset.table]]
name = "calls"
identity = { email = "email" }
columns = { email = "sales_records", note = "correspondence" }
dates = { created = "called_on" }
erase = "delete"

[[dataset.table]]
name = "invoices"
identity = { buyer_email = "email" }
columns = { buyer_email = "accounting_records" }
owner = { record = "customer", column = "customer_ref" }
erase = "keep"
kept_by = "accounting-records"
dated_by = "fiscal_year_end"
"""

DDL = """
CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_ref TEXT, email TEXT, title TEXT,
    created DATE, last_activity DATE);
CREATE TABLE messages (id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    body TEXT);
CREATE TABLE leads (id INTEGER PRIMARY KEY, prospect_ref TEXT, email TEXT, created DATE,
    last_activity DATE);
CREATE TABLE calls (id INTEGER PRIMARY KEY, email TEXT, note TEXT, called_on DATE);
CREATE TABLE invoices (id INTEGER PRIMARY KEY, customer_ref TEXT, buyer_email TEXT,
    fiscal_year_end DATE);
"""
TABLES = ("tickets", "messages", "leads", "calls", "invoices")
GHOST = "GHOST"  # an owner ref the registry never had

Key = tuple[str, str]  # (record type, ref): ("customer", "C0"), ("ops:tickets", "ops:tickets:3")


def row_key(table: str, key: int) -> Key:
    return (f"ops:{table}", f"ops:{table}:{key}")


# -- the oracle for the rows, from docs/retention.md ("Connected datasets") ------------------


@dataclass
class RowOutcome:
    due: set[Key] = field(default_factory=set)
    held: set[Key] = field(default_factory=set)  # a rule would delete it; a hold keeps it
    by_law: set[Key] = field(default_factory=set)  # the law keeps it until its day


def dataset_outcome(doc: dict, rows: dict[str, list[dict]], at: date) -> RowOutcome:
    """What the policy says happens to each row on `at`: a row goes under the first of its
    rules whose time has run out, unless a hold on its owner keeps it (every JufCorp rule
    here yields to holds); an owner ref the registry does not have dates nothing and is held
    by nothing; a message goes with its ticket; an invoice goes on Bokföringslagen's day."""
    reg = oracle.Registry(oracle.with_dates(doc))
    held = reg.held(at)
    out = RowOutcome()

    def settle(key: Key, due_by_a_rule: bool, owner: Key | None) -> None:
        if due_by_a_rule:
            (out.held if owner in held else out.due).add(key)

    for t in rows["tickets"]:
        customer = reg.customers.get(t["customer_ref"])
        end = oracle.relationship_end(customer) if customer else None
        ended = end is not None and oracle.add_years(end, 1) <= at  # P15
        quiet = oracle.sales_due(t["created"], t["last_activity"]) <= at  # P19
        settle(row_key("tickets", t["id"]), ended or quiet, ("customer", t["customer_ref"]))
    going = {key for table, key in out.due if table == "ops:tickets"}
    for m in rows["messages"]:
        if row_key("tickets", m["ticket_id"])[1] in going:
            out.due.add(row_key("messages", m["id"]))
    for lead in rows["leads"]:
        quiet = oracle.sales_due(lead["created"], lead["last_activity"]) <= at
        settle(row_key("leads", lead["id"]), quiet, ("prospect", lead["prospect_ref"]))
    for call in rows["calls"]:
        settle(row_key("calls", call["id"]), oracle.sales_due(call["called_on"], None) <= at, None)
    for invoice in rows["invoices"]:
        key = row_key("invoices", invoice["id"])
        if oracle.invoice_due(invoice["fiscal_year_end"]) > at:  # P17
            out.by_law.add(key)
        settle(key, key not in out.by_law, ("customer", invoice["customer_ref"]))
    return out


# -- random rows ---------------------------------------------------------------------------


@st.composite
def dataset_rows(draw, doc: dict) -> dict[str, list[dict]]:
    held = [h["target"].partition(":") for h in doc["holds"]]  # drawn twice as often
    customers = [c["ref"] for c in doc["customers"]] + [GHOST, None]
    customers += [ref for kind, _, ref in held if kind == "customer"]
    prospects = [p["ref"] for p in doc["prospects"]] + [GHOST, None]
    prospects += [ref for kind, _, ref in held if kind == "prospect"]
    rows: dict[str, list[dict]] = {t: [] for t in TABLES}
    for i in range(1, draw(st.integers(0, 5)) + 1):
        created = draw(days)
        rows["tickets"].append(
            {
                "id": i,
                "customer_ref": draw(st.sampled_from(customers)),
                "email": f"t{i}@kund.example",
                "title": "Fråga",
                "created": created,
                "last_activity": draw(maybe(later(created))),
            }
        )
        for _ in range(draw(st.integers(0, 2))):
            n = len(rows["messages"]) + 1
            rows["messages"].append({"id": n, "ticket_id": i, "body": "Hej"})
    for i in range(1, draw(st.integers(0, 3)) + 1):
        created = draw(days)
        rows["leads"].append(
            {
                "id": i,
                "prospect_ref": draw(st.sampled_from(prospects)),
                "email": f"l{i}@prospekt.example",
                "created": created,
                "last_activity": draw(maybe(later(created))),
            }
        )
    for i in range(1, draw(st.integers(0, 2)) + 1):
        rows["calls"].append(
            {"id": i, "email": f"c{i}@x.example", "note": "Ringde", "called_on": draw(days)}
        )
    for i in range(1, draw(st.integers(0, 3)) + 1):
        rows["invoices"].append(
            {
                "id": i,
                "customer_ref": draw(st.sampled_from(customers)),
                "buyer_email": f"f{i}@kund.example",
                "fiscal_year_end": draw(fiscal_year_ends),
            }
        )
    return rows


@st.composite
def cases(draw) -> tuple[dict, dict, date]:
    """A registry, the dataset's rows, and a date: any, a month end, or a row's due date."""
    doc = draw(registries())
    # Holds on the owners of rows too: among holds on any record, few would name one.
    owners = [f"customer:{c['ref']}" for c in doc["customers"]]
    owners += [f"prospect:{p['ref']}" for p in doc["prospects"]]
    doc["holds"] += [
        {"ref": f"HO{i}", "target": target, "reason": "negotiation", "until": draw(maybe(days))}
        for i, target in enumerate(draw(st.lists(st.sampled_from(owners), min_size=1, max_size=3)))
    ]
    rows = draw(dataset_rows(doc))
    changes = [
        oracle.sales_due(r["created"], r["last_activity"]) for r in rows["tickets"] + rows["leads"]
    ]
    changes += [oracle.invoice_due(r["fiscal_year_end"]) for r in rows["invoices"]]
    changes += [
        oracle.add_years(e, 1) for c in doc["customers"] if (e := oracle.relationship_end(c))
    ]
    changes += [h["until"] for h in doc["holds"] if h["until"]]
    at = draw(
        st.one_of(
            st.dates(date(2024, 1, 1), date(2031, 12, 31)),
            st.sampled_from(SPECIAL),
            st.sampled_from(changes or SPECIAL),
        )
    )
    return doc, rows, at


# -- the source database ---------------------------------------------------------------------


@dataclass
class Source:
    """The dataset's SQLite file, made anew for each example."""

    path: object
    made: int = 0

    def fill(self, rows: dict[str, list[dict]], monkeypatch) -> None:
        self.close()
        self.made += 1
        self.file = self.path / f"ops-{self.made}.sqlite3"
        with sqlite3.connect(self.file) as conn:
            conn.executescript(DDL)
            for table, data in rows.items():
                for row in data:
                    names = ", ".join(row)
                    marks = ", ".join("?" * len(row))
                    values = [v.isoformat() if isinstance(v, date) else v for v in row.values()]
                    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", values)  # noqa: S608
        conn.close()
        monkeypatch.setenv("GALLRA_DS_OPS_URL", f"sqlite:///{self.file}")

    def contents(self) -> set[Key]:
        with sqlite3.connect(self.file) as conn:
            found = {
                row_key(table, key)
                for table in TABLES
                for (key,) in conn.execute(f"SELECT id FROM {table}")  # noqa: S608
            }
        conn.close()
        return found

    def close(self) -> None:
        for key in [k for k in sources._engines if str(self.path) in k[1]]:
            sources._engines.pop(key).dispose()


@pytest.fixture
def source(tmp_path, monkeypatch):
    path = tmp_path / "policy.toml"
    path.write_text(config.DEFAULT_POLICY.read_text(encoding="utf-8") + DATASET)
    monkeypatch.setenv("GALLRA_POLICY", str(path))
    found = Source(tmp_path)
    yield found
    found.close()


# -- the properties ------------------------------------------------------------------------


def names(keys) -> list[str]:
    """Readable listing for assertion messages: `customer:C0`, `ops:tickets:3`."""
    return sorted(ref if kind.startswith("ops:") else f"{kind}:{ref}" for kind, ref in keys)


def is_ours(record_type: str) -> bool:
    """A registry record or a row of the dataset (not gallra's own data, logins, ...)."""
    return record_type in oracle.RECORD_TYPES or record_type.startswith("ops:")


def planned(policy, at: date) -> tuple[Counter, set[Key]]:
    """Every registry record and dataset row plan decides on, and those it deletes."""
    decisions = [d for d in [*plan(policy, at), *plan_all(policy, at)] if is_ours(d.record_type)]
    seen = Counter((d.record_type, d.ref) for d in decisions)
    return seen, {(d.record_type, d.ref) for d in decisions if d.action == "delete"}


def check(source: Source, monkeypatch, doc: dict, rows: dict, at: date) -> None:
    source.fill(rows, monkeypatch)
    policy = current_policy()
    registry_expected = oracle.outcome(doc, at)
    rows_expected = dataset_outcome(doc, rows, at)
    with transaction.atomic():
        import_document(doc)
        before = contents() | source.contents()
        seen, going = planned(policy, at)
        assert seen == Counter(before)  # one decision for each record and row
        last_seq = Entry.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

        summary = enforce(policy, at, actor="property-test")[-1]
        assert not summary.problems
        deleted = before - contents() - source.contents()

        # (a) plan and enforce agree, across the registry and the dataset.
        assert names(going) == names(deleted)
        # (b) both do what the policy text says.
        expected = registry_expected.due | rows_expected.due
        assert names(deleted) == names(expected), {
            "at": at,
            "missing (due, not deleted)": names(expected - deleted),
            "extra (deleted, not due)": names(deleted - expected),
        }
        # (c) nothing held goes, nor anything the law keeps before its day.
        kept = registry_expected.held | rows_expected.held | rows_expected.by_law
        assert not deleted & kept, names(deleted & kept)
        invoices = {i["ref"]: i for c in doc["customers"] for i in c.get("invoices", [])}
        for record_type, ref in deleted:
            if record_type == "invoice":
                assert oracle.invoice_due(invoices[ref]["fiscal_year_end"]) <= at, ref
        # (d) nothing due survives anywhere.
        assert planned(policy, at)[1] == set()
        # (e) the evidence verifies and names each deleted record and row once.
        result = verify()
        assert result.ok, result.problem
        logged = Counter(
            (e.record_type, ref)
            for e in Entry.objects.filter(seq__gt=last_seq, action="delete")
            if is_ours(e.record_type)
            for ref in e.refs
        )
        assert logged == Counter(deleted)
        transaction.set_rollback(True)


DATASET_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,  # no .hypothesis directory in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# A hold on the owner keeps its ticket (due by both rules) and its invoice (past the law's
# day); the same rows of a ref the registry never had go by their dates alone.
HELD_OWNER = (
    {
        "customers": [
            {
                "ref": "C0",
                "name": "Kund AB",
                "agreements": [{"ref": "AG", "start": "2018-01-01", "end": "2023-12-31"}],
            }
        ],
        "prospects": [],
        "quotes": [],
        "correspondence": [],
        "holds": [{"ref": "H", "target": "customer:C0", "reason": "legal", "until": None}],
    },
    {
        "tickets": [
            {
                "id": 1,
                "customer_ref": "C0",
                "email": "a@x.example",
                "title": "t",
                "created": date(2024, 1, 10),
                "last_activity": None,
            },
            {
                "id": 2,
                "customer_ref": GHOST,
                "email": "b@x.example",
                "title": "t",
                "created": date(2024, 1, 10),
                "last_activity": date(2024, 2, 1),
            },
        ],
        "messages": [
            {"id": 1, "ticket_id": 1, "body": "x"},
            {"id": 2, "ticket_id": 2, "body": "y"},
        ],
        "leads": [],
        "calls": [],
        "invoices": [
            {
                "id": 1,
                "customer_ref": "C0",
                "buyer_email": "a@x.example",
                "fiscal_year_end": date(2016, 12, 31),
            },
            {
                "id": 2,
                "customer_ref": GHOST,
                "buyer_email": "b@x.example",
                "fiscal_year_end": date(2016, 12, 31),
            },
            {
                "id": 3,
                "customer_ref": GHOST,
                "buyer_email": "b@x.example",
                "fiscal_year_end": date(2024, 12, 31),
            },
        ],
    },
    date(2025, 6, 1),
)


def test_the_oracle_on_the_held_owner_example():
    doc, rows, at = HELD_OWNER
    found = dataset_outcome(doc, rows, at)
    assert found.due == {row_key("tickets", 2), row_key("messages", 2), row_key("invoices", 2)}
    assert found.held == {row_key("tickets", 1), row_key("invoices", 1)}
    assert found.by_law == {row_key("invoices", 3)}


@DATASET_SETTINGS
@given(case=cases())
@example(case=HELD_OWNER)
def test_plan_enforce_and_policy_agree_across_the_stores(db, source, monkeypatch, case):
    check(source, monkeypatch, *case)
