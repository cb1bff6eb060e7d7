"""Retention in the provider's datasets (issue 17): rows follow the policy's rules as gallra's
own records do, at their source, in batches, with evidence, resumably.

The whole life: a billing system on PostgreSQL (customers, contracts, invoices), a ticket
system on MariaDB (tickets, messages), a CRM on SQLite (contacts, notes) and a Maildir. Anna's
last contract ended on 2025-06-30; on 2026-06-30 `enforce` removes her rows in all three and
her mail, keeps her invoices until Bokföringslagen's date, and MariaDB goes down in the middle
of the run: its part waits for the next run, its staff get one alert, the rest is done.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation

from gallra.datasets import enforcement
from gallra.datasets.enforcement import enforce_datasets
from gallra.datasets.models import DueRow, Forecast, Outage
from gallra.datasets.tests.conftest import rows
from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.mailboxes.tests.conftest import MaildirStore, message
from gallra.outbox.models import Mail
from gallra.policy.loading import current_policy
from gallra.registry.models import Agreement, Customer, Hold, Person, Prospect
from gallra.retention import stores
from gallra.retention.enforcement import enforce
from gallra.subjects.tests.conftest import personnummer

AT = date(2026, 6, 30)  # one year after Anna's last contract ended
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ANNA = {"email": "anna.berg@kund.example", "name": "Anna Berg", "pnr": personnummer("19811218987")}
BO = {"email": "bo.ek@kund.example", "name": "Bo Ek", "pnr": personnummer("19700101123")}
LAW = "Bokföringslagen (1999:1078) 7 kap. 2 §"

DATASETS = """
[[dataset]]
id = "billing"
name = { sv = "Faktureringssystemet", en = "The billing system" }
url_env = "GALLRA_DS_BILLING_URL"
country = "SE"

[[dataset.table]]
name = "customers"
identity = { email = "email", name = "name" }
columns = { name = "customer_identity", email = "customer_contact" }
owner = { record = "customer", column = "customer_ref" }
erase = "delete"

[[dataset.table]]
name = "contracts"                      # no dating of its own: it goes with its customer row
via = { table = "customers", column = "customer_id" }
columns = { signed_by = "customer_contact" }
erase = "delete"

[[dataset.table]]
name = "invoices"
identity = { buyer_email = "email" }
columns = { buyer_email = "accounting_records", buyer_name = "accounting_records" }
owner = { record = "customer", column = "customer_ref" }
erase = "keep"
kept_by = "accounting-records"
dated_by = "fiscal_year_end"

[[dataset]]
id = "tickets"
name = { sv = "Ärendesystemet", en = "The ticket system" }
url_env = "GALLRA_DS_TICKETS_URL"
country = "SE"

[[dataset.table]]
name = "tickets"
identity = { requester_email = "email", requester_name = "name" }
owner = { record = "customer", column = "customer_ref" }
dates = { created = "created", last_activity = "last_activity" }
erase = "delete"

[dataset.table.columns]
requester_email = "customer_contact"
requester_name = "customer_contact"
title = "correspondence"                # three months after the ticket's last activity

[[dataset.table]]
name = "messages"
via = { table = "tickets", column = "ticket_id" }
identity = { author_email = "email" }
columns = { author_email = "customer_contact", body = "correspondence" }
text = ["body"]
erase = "delete"

[[dataset]]
id = "crm"
name = "CRM"
url_env = "GALLRA_DS_CRM_URL"
country = "SE"

[[dataset.table]]
name = "contacts"
identity = { email = "email", pnr = "personnummer", full_name = "name" }
lowercase_match = true
columns = { email = "customer_contact", pnr = "customer_contact", full_name = "customer_contact" }
owner = { record = "customer", column = "customer_ref" }
erase = "delete"

[[dataset.table]]
name = "notes"
via = { table = "contacts", column = "contact_id" }
columns = { note = "requests" }
text = ["note"]
erase = "overwrite"
set = { note = "[raderad]" }
set_null = ["contact_id"]
"""

MAILBOX = """
[[mailbox]]
id = "salj"
kind = "maildir"
category = "correspondence"
country = "SE"
path = "{path}"
"""

BILLING = """
CREATE TABLE customers (id BIGINT PRIMARY KEY, customer_ref VARCHAR(100), name VARCHAR(200),
    email VARCHAR(200));
CREATE TABLE contracts (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers,
    product VARCHAR(100), signed_by VARCHAR(200), ends DATE);
CREATE INDEX contracts_customer ON contracts (customer_id);
CREATE TABLE invoices (id BIGINT PRIMARY KEY, customer_ref VARCHAR(100), buyer_name VARCHAR(200),
    buyer_email VARCHAR(200), amount NUMERIC(12, 2), fiscal_year_end DATE);
"""
TICKETS = """
CREATE TABLE tickets (id BIGINT PRIMARY KEY, customer_ref VARCHAR(100),
    requester_email VARCHAR(200), requester_name VARCHAR(200), title VARCHAR(200), created DATE,
    last_activity DATE) ENGINE=InnoDB;
CREATE TABLE messages (id BIGINT PRIMARY KEY, ticket_id BIGINT NOT NULL, author_email VARCHAR(200),
    body TEXT, FOREIGN KEY (ticket_id) REFERENCES tickets (id)) ENGINE=InnoDB;
"""
CRM = """
CREATE TABLE contacts (id INTEGER PRIMARY KEY, customer_ref TEXT, full_name TEXT, email TEXT,
    pnr TEXT);
CREATE TABLE notes (id INTEGER PRIMARY KEY, contact_id INTEGER REFERENCES contacts (id), note TEXT);
"""


def billing_rows() -> dict:
    a, b = ANNA, BO
    return {
        "customers": [
            {"id": 1, "customer_ref": "C-ANNA", "name": a["name"], "email": a["email"]},
            {"id": 2, "customer_ref": "C-BO", "name": b["name"], "email": b["email"]},
            {
                "id": 3,
                "customer_ref": "C-GHOST",
                "name": "Gustav Spöke",
                "email": "gustav@spoke.example",
            },  # a ref gallra has never known
        ],
        "contracts": [
            {
                "id": 10,
                "customer_id": 1,
                "product": "Drift",
                "signed_by": a["name"],
                "ends": "2025-06-30",
            },
            {
                "id": 11,
                "customer_id": 1,
                "product": "Backup",
                "signed_by": a["name"],
                "ends": "2024-12-31",
            },
            {"id": 20, "customer_id": 2, "product": "Drift", "signed_by": b["name"], "ends": None},
        ],
        "invoices": [
            {
                "id": 99,
                "customer_ref": "C-ANNA",
                "buyer_name": a["name"],
                "buyer_email": a["email"],
                "amount": "500.00",
                "fiscal_year_end": "2018-12-31",
            },  # the law let it go 2026-01-01
            {
                "id": 100,
                "customer_ref": "C-ANNA",
                "buyer_name": a["name"],
                "buyer_email": a["email"],
                "amount": "900.00",
                "fiscal_year_end": "2025-12-31",
            },
            {
                "id": 101,
                "customer_ref": "C-ANNA",
                "buyer_name": a["name"],
                "buyer_email": a["email"],
                "amount": "700.00",
                "fiscal_year_end": "2024-12-31",
            },
            {
                "id": 200,
                "customer_ref": "C-BO",
                "buyer_name": b["name"],
                "buyer_email": b["email"],
                "amount": "800.00",
                "fiscal_year_end": "2025-12-31",
            },
        ],
    }


def ticket_rows() -> dict:
    a, b = ANNA, BO
    return {
        "tickets": [
            {
                "id": 1,
                "customer_ref": "C-ANNA",
                "requester_email": a["email"],
                "requester_name": a["name"],
                "title": "Kan inte logga in",
                "created": "2025-03-01",
                "last_activity": "2026-05-15",
            },  # recent: only the relationship's end takes it
            {
                "id": 2,
                "customer_ref": "C-ANNA",
                "requester_email": a["email"],
                "requester_name": a["name"],
                "title": "Fakturafråga",
                "created": "2025-05-01",
                "last_activity": "2026-06-20",
            },
            {
                "id": 3,
                "customer_ref": "C-BO",
                "requester_email": b["email"],
                "requester_name": b["name"],
                "title": "Ny server",
                "created": "2026-05-20",
                "last_activity": "2026-06-01",
            },  # Bo's, three months not yet passed
            {
                "id": 4,
                "customer_ref": "C-BO",
                "requester_email": b["email"],
                "requester_name": b["name"],
                "title": "Gammal fråga",
                "created": "2025-11-01",
                "last_activity": "2026-01-10",
            },  # Bo's, quiet for over three months
        ],
        "messages": [
            {
                "id": 10,
                "ticket_id": 1,
                "author_email": a["email"],
                "body": f"Hej, {a['name']} här. Mitt personnummer är {a['pnr']}.",
            },
            {
                "id": 11,
                "ticket_id": 1,
                "author_email": "support@redcloud.example",
                "body": "Vi tittar på det.",
            },
            {"id": 20, "ticket_id": 2, "author_email": a["email"], "body": "Fakturan är fel."},
            {"id": 30, "ticket_id": 3, "author_email": b["email"], "body": "En server till."},
            {"id": 40, "ticket_id": 4, "author_email": b["email"], "body": "En gammal fråga."},
        ],
    }


def crm_rows() -> dict:
    return {
        "contacts": [
            {
                "id": 1,
                "customer_ref": "C-ANNA",
                "full_name": ANNA["name"],
                "email": ANNA["email"].upper(),
                "pnr": ANNA["pnr"],
            },
            {
                "id": 2,
                "customer_ref": "C-BO",
                "full_name": BO["name"],
                "email": BO["email"],
                "pnr": BO["pnr"],
            },
        ],
        "notes": [
            {"id": 1, "contact_id": 1, "note": "Anna ringde om fakturan."},
            {"id": 2, "contact_id": 2, "note": "Bo ringde."},
        ],
    }


def registry() -> None:
    anna = Customer.objects.create(ref="C-ANNA", name="Berg Konsult AB")
    Agreement.objects.create(
        ref="AG-ANNA", customer=anna, start=date(2020, 1, 1), end=date(2025, 6, 30)
    )
    Person.objects.create(
        ref="P-ANNA",
        customer=anna,
        first_name="Anna",
        last_name="Berg",
        email=ANNA["email"],
        is_contact=True,
    )
    bo = Customer.objects.create(ref="C-BO", name="Ek Bygg AB")
    Agreement.objects.create(ref="AG-BO", customer=bo, start=date(2021, 1, 1))
    Person.objects.create(
        ref="P-BO", customer=bo, first_name="Bo", last_name="Ek", email=BO["email"], is_contact=True
    )


def staff(role: str, email: str) -> None:
    """A staff member in `role` (the Django group of its name): the datasets' alerts go to the
    roles responsible for their categories (customer_contact: technician; sales_records: sales)."""
    user = get_user_model().objects.create_user(role, email=email, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=role)[0])


class Killed(BaseException):
    """The process dies (a kill, a power cut): nothing after this point runs."""


def row_evidence() -> Counter:
    """How many times each dataset row is named by a deletion in the evidence log."""
    entries = Entry.objects.filter(action="delete", record_type__contains=":")
    return Counter(ref for e in entries for ref in e.refs)


def dataset_store() -> stores.Store:
    return next(s for s in stores.stores() if s.id == "datasets")


@pytest.fixture
def world(databases, db, tmp_path):
    """The three systems, the mailbox and the registry, and the policy declaring them."""
    databases.postgresql("billing", BILLING, billing_rows())
    databases.mariadb("tickets", TICKETS, ticket_rows())
    databases.sqlite("crm", CRM, crm_rows())
    box = MaildirStore(tmp_path / "Maildir")
    for sender, written in (
        (ANNA["email"], datetime(2026, 2, 1, 10, tzinfo=STOCKHOLM)),
        (BO["email"], datetime(2026, 6, 10, 10, tzinfo=STOCKHOLM)),
    ):
        box.add(message(f"{sender.split('@')[0]}@test", written, sender), written)
    databases.policy(DATASETS + MAILBOX.format(path=box.root))
    registry()
    databases.box = box
    return databases


def test_the_day_a_year_after_the_last_contract_and_a_mariadb_outage(world, monkeypatch):
    out = io.StringIO()
    call_command("policy", "check", stdout=out)  # the declaration, against the real databases
    policy = current_policy()
    billing, tickets, crm = (world.engines[d] for d in ("billing", "tickets", "crm"))
    staff("technician", "tekniker@redcloud.example")
    down = []

    # MariaDB goes down after the first batch of its rows (one row a batch here).
    def outage(dataset: str, done: int, total: int) -> None:
        if dataset == "tickets" and not down:
            world.lock_mariadb()
            down.append(done)

    monkeypatch.setattr(dataset_store(), "batch", 1)
    monkeypatch.setattr(dataset_store(), "progress", outage)
    summary = enforce(policy, AT, actor="test")[-1]

    # PostgreSQL: Anna's customer row and contracts gone; her invoices kept by law, except the
    # one whose seven years ran out; Bo's rows, and the row of a ref gallra never knew, stay.
    assert set(rows(billing, "customers")) == {2, 3}
    assert set(rows(billing, "contracts")) == {20}
    assert set(rows(billing, "invoices")) == {100, 101, 200}
    # SQLite: Anna's contact deleted, the note of her call overwritten and unlinked.
    assert set(rows(crm, "contacts")) == {2}
    assert rows(crm, "notes")[1] == {"id": 1, "contact_id": None, "note": "[raderad]"}
    assert rows(crm, "notes")[2]["note"] == "Bo ringde."
    # The mailbox and the registry: done too.
    assert world.box.message_ids() == {"bo.ek@test"}
    assert not Customer.objects.filter(ref="C-ANNA").exists()
    # MariaDB: one batch went before it went down; the rest waits, and the run says so.
    assert len(rows(tickets, "messages")) == 4
    assert set(rows(tickets, "tickets")) == {1, 2, 3, 4}
    part = summary.stores["datasets"]
    assert len(part["problems"]) == 1 and "dataset 'tickets' (MariaDB/MySQL" in part["problems"][0]
    assert summary.problems == part["problems"]  # `gallra enforce` exits 1
    assert DueRow.objects.filter(dataset="tickets").exists()  # its marks wait
    assert not DueRow.objects.exclude(dataset="tickets").exists()
    alerts = Mail.objects.filter(kind=enforcement.ALERT_KIND)
    assert alerts.count() == 1
    assert Entry.objects.filter(action="dataset_unreachable", data__store="tickets").count() == 1

    # Still down at the next run: still reported, no second alert.
    summary = enforce(policy, AT, actor="test")[-1]
    assert summary.stores["datasets"]["problems"]
    assert alerts.count() == 1
    assert Entry.objects.filter(action="dataset_unreachable").count() == 1

    # Back the day after: the registry has deleted Anna's customer by then, and remembers it;
    # her tickets go under the rule it was deleted by. Bo's quiet ticket goes after three months.
    world.lock_mariadb(False)
    summary = enforce(policy, AT + timedelta(days=1), actor="test")[-1]
    assert not summary.problems
    assert set(rows(tickets, "tickets")) == {3}
    assert set(rows(tickets, "messages")) == {30}
    assert not DueRow.objects.exists() and not Outage.objects.exists()
    assert Entry.objects.filter(action="dataset_reachable", data__store="tickets").count() == 1
    assert alerts.count() == 1

    # Every row is in the evidence exactly once, with its rule, table and kind of change.
    named = row_evidence()
    assert set(named.values()) == {1}
    assert set(named) == {
        "billing:customers:1",
        "billing:contracts:10",
        "billing:contracts:11",
        "billing:invoices:99",
        "crm:contacts:1",
        "crm:notes:1",
        "tickets:tickets:1",
        "tickets:tickets:2",
        "tickets:tickets:4",
        "tickets:messages:10",
        "tickets:messages:11",
        "tickets:messages:20",
        "tickets:messages:40",
    }
    (note,) = Entry.objects.filter(action="delete", record_type="crm:notes")
    assert note.rule == "customer-data-after-relationship" and note.refs == ["crm:notes:1"]
    assert note.data == {
        "store": "crm",
        "table": "notes",
        "erase": "overwrite",
        "deletion_date": AT.isoformat(),
    }
    (invoice,) = Entry.objects.filter(action="delete", record_type="billing:invoices")
    assert invoice.rule == "accounting-records" and invoice.data["erase"] == "delete"
    assert verify().ok

    # The proof: only what the law keeps is left, and why.
    found = verify_erasure()
    lines = found.strip().splitlines()
    assert lines[-1].startswith("nothing found (") and "kept by law" in lines[-1]
    kept = lines[:-1]
    assert kept and all(line.startswith("kept  dataset billing: invoices id=") for line in kept)
    assert {line.split("id=")[1].split()[0] for line in kept} == {"100", "101"}
    assert f"kept by accounting-records ({LAW}) until 2032-12-31" in found
    assert f"kept by accounting-records ({LAW}) until 2031-12-31" in found

    # On Bokföringslagen's date the last of them go, and nothing of Anna is left anywhere.
    enforce(policy, date(2033, 1, 1), actor="test")
    assert set(rows(billing, "invoices")) == set()
    assert verify_erasure().strip() == "nothing found"


def verify_erasure() -> str:
    out = io.StringIO()
    call_command(
        "verify_erasure",
        "--name",
        ANNA["name"],
        "--email",
        ANNA["email"],
        "--personnummer",
        ANNA["pnr"],
        "--no-backups",
        stdout=out,
    )
    return out.getvalue()


# -- focused: a CRM and a list of leads on SQLite -------------------------------------------

LEADS = """
[[dataset]]
id = "leads"
name = "Leads"
url_env = "GALLRA_DS_LEADS_URL"
country = "SE"

[[dataset.table]]
name = "leads"
identity = { email = "email" }
columns = { email = "sales_records", title = "correspondence" }
owner = { record = "prospect", column = "prospect_ref" }
dates = { last_activity = "last_activity" }
erase = "delete"
"""
LEADS_SQL = """
CREATE TABLE leads (id INTEGER PRIMARY KEY, prospect_ref TEXT, email TEXT, title TEXT,
    last_activity DATE)
"""


@pytest.fixture
def crm(databases, db):
    """The CRM alone: Anna ended (due on AT), Bo active, a contact whose owner nobody knows."""
    data = crm_rows()
    data["contacts"].append(
        {
            "id": 3,
            "customer_ref": "C-NOBODY",
            "full_name": "Okänd",
            "email": "okand@example.org",
            "pnr": None,
        }
    )
    databases.sqlite("crm", CRM, data)
    databases.policy(DATASETS[DATASETS.index('[[dataset]]\nid = "crm"') :])
    registry()
    return databases


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_plan_lists_the_rows_and_explain_explains_one(crm):
    text = run("plan", "--at", AT.isoformat(), "--lang", "en", "--all", "--type", "crm:contacts")
    assert (
        "delete   row of crm:contacts crm:contacts:1 (customer-data-after-relationship, "
        "due since 2026-06-30)"
    ) in text
    assert "keep     row of crm:contacts crm:contacts:2: the agreement is still active" in text
    assert (
        "keep     row of crm:contacts crm:contacts:3: its owner C-NOBODY is not in the "
        "registry, nor among what gallra deleted: check the row"
    ) in text
    assert "customer-data-after-relationship: 1 row of crm:contacts" in text

    planned = json.loads(run("plan", "--at", AT.isoformat(), "--format", "json"))
    notes = [d for d in planned if d["type"] == "crm:notes"]
    assert {
        "type": "crm:notes",
        "ref": "crm:notes:1",
        "rule": "customer-data-after-relationship",
        "due": "2026-06-30",
        "action": "delete",
    } in notes
    assert {
        "type": "crm:notes",
        "ref": "crm:notes:2",
        "rule": "",
        "due": None,
        "action": "keep",
        "reason": "follows",
        "details": {"follows": "crm:contacts"},
    } in notes

    en = run("explain", "crm:contacts:1", "--at", AT.isoformat(), "--lang", "en")
    assert en.strip() == (
        "row of crm:contacts crm:contacts:1 is deleted on 2026-06-30 under rule "
        "customer-data-after-relationship (due since 2026-06-30)."
    )
    sv = run("explain", "crm:contacts:1", "--at", "2026-06-29", "--lang", "sv")
    assert sv.strip() == (
        "rad i crm:contacts crm:contacts:1 sparas den 2026-06-29: sparas till och med 2026-06-29 "
        "(customer-data-after-relationship)."
    )
    with pytest.raises(CommandError) as refused:
        run("explain", "crm:contacts:404", "--at", AT.isoformat())
    assert refused.value.returncode == 2
    # Plan and explain change nothing: no mark is left, no row touched.
    assert not DueRow.objects.exists()
    assert set(rows(crm.engines["crm"], "contacts")) == {1, 2, 3}


def test_a_negotiation_hold_on_a_prospect_keeps_their_leads_too(databases, db):
    databases.sqlite(
        "leads",
        LEADS_SQL,
        {
            "leads": [
                {
                    "id": 1,
                    "prospect_ref": "PR-NEG",
                    "email": "neg@prospekt.example",
                    "title": "Offert",
                    "last_activity": "2026-02-01",
                },
                {
                    "id": 2,
                    "prospect_ref": "PR-COLD",
                    "email": "kall@prospekt.example",
                    "title": "Offert",
                    "last_activity": "2026-02-01",
                },
            ]
        },
    )
    databases.policy(LEADS)
    for ref in ("PR-NEG", "PR-COLD"):
        Prospect.objects.create(ref=ref, name=ref, email=f"{ref}@x.example", created=AT)
    Hold.objects.create(
        ref="H-NEG",
        target_type="prospect",
        target_ref="PR-NEG",
        reason="negotiation",
        until=date(2026, 12, 31),
    )
    policy = current_policy()

    held = run("explain", "leads:leads:1", "--at", AT.isoformat(), "--lang", "en")
    assert "held by H-NEG (ongoing negotiation) until 2026-12-31 (correspondence-and-sales)" in held
    summary = enforce_datasets(policy, AT, actor="test")
    assert summary.changed == Counter({("correspondence-and-sales", "leads:leads", "delete"): 1})
    assert set(rows(databases.engines["leads"], "leads")) == {1}
    # The day after the hold ends, the lead goes.
    enforce_datasets(policy, date(2027, 1, 1), actor="test")
    assert rows(databases.engines["leads"], "leads") == {}


def test_a_run_killed_between_the_source_and_the_evidence_is_finished_once(crm, monkeypatch):
    policy = current_policy()
    real = enforcement._DatasetRun._record

    def killed(self, table, marks, resumed):
        raise Killed  # the source has changed; gallra has not recorded it

    monkeypatch.setattr(enforcement._DatasetRun, "_record", killed)
    with pytest.raises(Killed):
        enforce_datasets(policy, AT, actor="test")
    assert rows(crm.engines["crm"], "notes")[1]["note"] == "[raderad]"  # changed at the source
    assert not row_evidence()
    assert DueRow.objects.filter(applying__isnull=False).count() == 1

    monkeypatch.setattr(enforcement._DatasetRun, "_record", real)
    summary = enforce_datasets(policy, AT, actor="test")
    assert summary.resumed == 1
    assert set(rows(crm.engines["crm"], "contacts")) == {2, 3}
    assert row_evidence() == Counter({"crm:notes:1": 1, "crm:contacts:1": 1})
    again = enforce_datasets(policy, AT, actor="test")
    assert not again.changed and not again.resumed
    assert row_evidence() == Counter({"crm:notes:1": 1, "crm:contacts:1": 1})
    assert verify().ok


def test_rows_go_in_batches_each_with_its_evidence(databases, db):
    leads = [
        {
            "id": i,
            "prospect_ref": "PR-OLD",
            "email": f"l{i}@x.example",
            "title": "Offert",
            "last_activity": "2026-01-01",
        }
        for i in range(1, 8)
    ]
    leads.append(
        {
            "id": 8,
            "prospect_ref": "PR-OLD",
            "email": "new@x.example",
            "title": "Ny",
            "last_activity": "2026-06-01",
        }
    )
    databases.sqlite("leads", LEADS_SQL, {"leads": leads})
    databases.policy(LEADS)
    seen = []
    summary = enforce_datasets(
        current_policy(), AT, actor="test", batch=3, progress=lambda *a: seen.append(a)
    )
    assert summary.due == 7
    assert seen == [("leads", 3, 7), ("leads", 6, 7), ("leads", 7, 7)]
    entries = Entry.objects.filter(action="delete", record_type="leads:leads").order_by("seq")
    assert [e.count for e in entries] == [3, 3, 1]
    assert set(rows(databases.engines["leads"], "leads")) == {8}


def test_an_unreachable_dataset_does_not_stop_the_others(crm, monkeypatch):
    staff("sales", "salj@redcloud.example")
    monkeypatch.setenv("GALLRA_DS_LEADS_URL", "mysql://nobody@127.0.0.1:1/leads")
    policy_path = crm.policy(DATASETS[DATASETS.index('[[dataset]]\nid = "crm"') :] + LEADS)
    assert policy_path.exists()
    summary = enforce_datasets(current_policy(), AT, actor="test")
    (problem,) = summary.problems
    assert problem.startswith("dataset 'leads' (MariaDB/MySQL 127.0.0.1:1/leads): ")
    assert set(rows(crm.engines["crm"], "contacts")) == {2, 3}
    assert Mail.objects.filter(kind=enforcement.ALERT_KIND).count() == 1
    assert Outage.objects.get(dataset="leads").alerted is not None


def test_policy_check_refuses_personal_data_that_no_rule_dates(tmp_path):
    no_owner = DATASETS[DATASETS.index('[[dataset]]\nid = "crm"') :].replace(
        'owner = { record = "customer", column = "customer_ref" }\n', ""
    )
    path = tmp_path / "policy.toml"
    path.write_text(current_policy_text() + no_owner)
    err = check(path)
    assert "dataset[0].table[0]: no rule can date the rows of table 'contacts'" in err
    assert "agreement_ended needs an `owner` of record customer or person or account" in err
    assert "dataset[0].table[1]" not in err  # its notes follow it: said once
    # A date the rules do not count from does not date them either.
    path.write_text(
        current_policy_text()
        + no_owner.replace(
            'erase = "delete"', 'dates = { created = "created" }\nerase = "delete"', 1
        )
    )
    assert "no rule can date the rows of table 'contacts'" in check(path)
    # A prospect has no agreements: an owner must be of a kind that has the trigger.
    path.write_text(
        current_policy_text()
        + DATASETS[DATASETS.index('[[dataset]]\nid = "crm"') :].replace(
            'record = "customer"', 'record = "prospect"'
        )
    )
    assert "an `owner` of record customer or person or account, not prospect" in check(path)


def current_policy_text() -> str:
    from gallra import config

    return config.DEFAULT_POLICY.read_text(encoding="utf-8")


def check(path) -> str:
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("policy", "check", str(path), "--offline", stdout=io.StringIO(), stderr=err)
    assert refused.value.returncode == 2
    return err.getvalue()


def test_the_front_page_counts_the_rows_due_without_opening_the_databases(
    databases, db, staff_member, client
):
    from gallra.dashboard.panels import dashboard

    today = timezone.localdate()
    quiet = today - timedelta(days=92)  # three months and a few days: due within the window
    databases.sqlite(
        "leads",
        LEADS_SQL,
        {
            "leads": [
                {
                    "id": 1,
                    "prospect_ref": "PR-1",
                    "email": "a@x.example",
                    "title": "Offert",
                    "last_activity": (quiet + timedelta(days=10)).isoformat(),
                },
                {
                    "id": 2,
                    "prospect_ref": "PR-1",
                    "email": "b@x.example",
                    "title": "Offert",
                    "last_activity": (quiet + timedelta(days=10)).isoformat(),
                },
            ]
        },
    )
    databases.policy(LEADS)
    run("plan", "--at", today.isoformat())  # counts the coming days, as enforce does
    assert sum(Forecast.objects.values_list("rows", flat=True)) == 2
    databases.monkeypatch.setenv("GALLRA_DS_LEADS_URL", "sqlite:////nonexistent/leads.sqlite3")
    with translation.override("en"):
        page = dashboard(timezone.now(), today)
    chart = page["deletions"]["chart"]
    titles = [s.title for s in chart.segments]
    assert any("2 records (2 rows in leads:leads)" in t for t in titles), titles
    assert any(item.text.startswith("correspondence-and-sales: 2") for item in chart.legend)
    # The legend's list names the table and its count, still without opening the database.
    client.force_login(staff_member("tekniker", "technician"))
    legend = next(i for i in chart.legend if i.text.startswith("correspondence-and-sales"))
    page = client.get(legend.href, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Rows in leads:leads: 2" in page
    assert "gallra plan --type leads:leads" in page
