"""Facts from the billing system (issue 17, items 3 and 4): `gallra sync` of a SQL source on a
real PostgreSQL database. The same validation and all-or-nothing as `gallra import`, problems
named by the source's row and column, and nothing that retention deleted comes back: not from
a sync, not from an import of the same records."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from gallra.policy.loading import PolicyError, current_policy, load_policy, registry_fields
from gallra.registry.importing import import_document
from gallra.registry.models import Account, Agreement, Customer, Person
from gallra.retention.enforcement import enforce
from gallra.sync.models import SourceRun
from gallra.sync.tests.conftest import BILLING_DATASET, BILLING_SOURCE, with_sources

ENDED = date(2025, 3, 31)
YEAR_LATER = date(2026, 3, 31)  # customer-data-after-relationship: P1Y after the last end
RULE = "customer-data-after-relationship"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def fill(billing) -> None:
    billing.run(
        "INSERT INTO customers (id, name, orgnr) VALUES (1, 'Avslutad AB', '556677-8899'), "
        "(2, 'Kvar AB', NULL)",
        "INSERT INTO contracts (id, customer_id, start_date, end_date) VALUES "
        "(1, 1, '2020-01-01', '2025-03-31'), (2, 2, '2021-01-01', NULL)",
        "INSERT INTO contacts (id, customer_id, first_name, last_name, email, roles, username, "
        "created) VALUES "
        "(1, 1, 'Greta', 'Gåtts', 'greta@avslutad.example', '{user,contact}', 'greta', "
        " '2020-01-01'), "
        "(2, 2, 'Kurt', 'Kvar', 'kurt@kvar.example', '{contact}', NULL, NULL), "
        "(3, 2, 'Karin', 'Kvar', 'karin@kvar.example', '{user}', 'karin', '2021-02-01')",
    )


@pytest.fixture
def source(billing, tmp_path, monkeypatch, db):
    fill(billing)
    with_sources(tmp_path, monkeypatch, BILLING_DATASET + BILLING_SOURCE)
    return billing


def sync(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("sync", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def registry_state() -> str:
    """A digest of every row of the registry (tombstones and keys included)."""
    digest = hashlib.sha256()
    for model in apps.get_app_config("registry").get_models():
        for row in model.objects.order_by("pk").values_list():
            digest.update(
                repr(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)).encode()
            )
    return digest.hexdigest()


def test_sync_reads_customers_agreements_people_and_accounts_as_an_import_would(source):
    code, out, err = sync()
    assert code == 0, err
    assert Customer.objects.get(ref="1").name == "Avslutad AB"  # an integer id is a ref
    assert Agreement.objects.get(ref="AG-1").end == ENDED
    assert Person.objects.get(ref="P-1").roles == ["user", "contact"]
    assert Account.objects.get(ref="A-3").person.ref == "P-3"
    assert "source billing: customer: 2 created" in out
    assert sync()[0] == 0  # the same rows again change nothing
    assert "customer: 2 unchanged" in sync()[1]
    source.run("UPDATE customers SET name = 'Kvar & Co AB' WHERE id = 2")
    assert "customer: 1 updated, 1 unchanged" in sync()[1]
    assert SourceRun.objects.filter(source="billing", outcome="ok").count() == 4


def test_after_enforce_neither_sync_nor_import_recreates_anything_and_each_refusal_names_the_source(
    source,
):
    assert sync()[0] == 0
    enforce(current_policy(), YEAR_LATER)
    assert not Customer.objects.filter(ref="1").exists()
    assert not Person.objects.filter(ref="P-1").exists()
    before = registry_state()

    code, out, err = sync()
    assert code == 1
    assert registry_state() == before  # nothing re-created
    database = f"PostgreSQL 127.0.0.1:5432/{source.name}"
    where = f"it is still in source billing, dataset 'billing' ({database})"
    for row, kind, ref in (
        ("customers row 1 (ref '1')", "customer", "1"),
        ("agreements row 1 (ref 'AG-1')", "agreement", "AG-1"),
        ("people row 1 (ref 'P-1')", "person", "P-1"),
        ("accounts row 1 (ref 'A-1')", "account", "A-1"),
    ):
        line = next(line for line in err.splitlines() if f": {kind} {ref}:" in line)
        assert line.startswith(f"source billing, {row}: {kind} {ref}: "), line
        assert f"deleted under rule {RULE} on {YEAR_LATER}; {where}; delete it there" in line
    assert "customer: 2 unchanged" not in out and "customer: 1 unchanged" in out

    # The original records, as a file: refused just the same.
    report = import_document(
        {
            "customers": [
                {
                    "ref": "1",
                    "name": "Avslutad AB",
                    "agreements": [{"ref": "AG-1", "start": "2020-01-01", "end": "2025-03-31"}],
                    "people": [{"ref": "P-1", "first_name": "Greta", "last_name": "Gåtts"}],
                    "accounts": [
                        {"ref": "A-1", "person": "P-1", "username": "greta", "opened": "2020-01-01"}
                    ],
                }
            ]
        },
        source="billing-export.json",
    )
    assert {(r.record_type, r.ref) for r in report.refused} == {
        ("customer", "1"),
        ("agreement", "AG-1"),
        ("person", "P-1"),
        ("account", "A-1"),
    }
    assert all(
        "it is still in billing-export.json" in r.reason
        for r in report.refused
        if r.record_type == "customer"
    )
    assert registry_state() == before

    code, _, err = sync()  # and again, the next night
    assert code == 1 and registry_state() == before


def sql_source(**queries: str) -> str:
    """A [[source]] "billing" of kind sql over the billing dataset, with these queries."""
    lines = ["[[source]]", 'id = "billing"', 'kind = "sql"', 'dataset = "billing"']
    lines += [f"{section} = '''{query}'''" for section, query in queries.items()]
    return BILLING_DATASET + "\n" + "\n".join(lines) + "\n"


HOSTILE = sql_source(
    customers="SELECT number AS ref, name FROM customers ORDER BY id",
    agreements="SELECT 'AG-' || contracts.id AS ref, c.number AS customer, signed AS start "
    "FROM contracts JOIN customers c ON c.id = contracts.customer_id ORDER BY contracts.id",
    people="SELECT 'P-' || contacts.id AS ref, c.number AS customer, first_name, last_name "
    "FROM contacts JOIN customers c ON c.id = contacts.customer_id ORDER BY contacts.id",
)


def test_hostile_rows_are_named_by_row_and_column_and_nothing_is_stored(
    billing, tmp_path, monkeypatch, db
):
    billing.run(
        "INSERT INTO customers (id, number, name) VALUES (1, 'K-1', 'Ett AB'), "
        "(2, 'K-2', repeat('x', 10000000)), (3, 'K-1', 'Samma nummer AB'), (4, 'K-4', 'Fyra AB')",
        "INSERT INTO contracts (id, customer_id, signed) VALUES (1, 1, '2021-01-01'), "
        "(2, 4, '31/12/2024')",
        "INSERT INTO contacts (id, customer_id, first_name, last_name) VALUES "
        "(1, 1, 'Anna', 'Berg'), (2, 4, NULL, 'Utan Förnamn')",
    )
    with_sources(tmp_path, monkeypatch, HOSTILE)
    import_document({"customers": [{"ref": "K-0", "name": "Redan här AB"}]})
    before = registry_state()
    code, _, err = sync()
    assert code == 2, err
    assert registry_state() == before  # all or nothing
    lines = err.splitlines()
    expected = [
        "source billing: customers row 2 (ref 'K-2'), column name: is 1,000,001 characters long; "
        "at most 200 fit",
        "source billing: agreements row 2 (ref 'AG-2'), column start: '31/12/2024' is not a date "
        "in the form YYYY-MM-DD",
        "source billing: people row 2 (ref 'P-2'), column first_name: must be a string, not null",
        "source billing: customers row 3 (ref 'K-1'): duplicate ref 'K-1': another customer in "
        "this file has it; a ref is one record's own",  # in the same run (issue 19)
    ]
    for line in expected:
        assert line in lines, "\n".join(lines)
    assert max(len(line) for line in lines) < 500  # a 10 MB value is not echoed
    assert "nothing imported: 4 problems" in err

    # Fixed, but a customer number used twice: still nothing.
    billing.run(
        "UPDATE customers SET name = 'Två AB' WHERE id = 2",
        "UPDATE contracts SET signed = '2024-12-31' WHERE id = 2",
        "UPDATE contacts SET first_name = 'Bertil' WHERE id = 2",
    )
    code, _, err = sync()
    assert code == 2, err
    assert (
        "source billing: customers row 3 (ref 'K-1'): duplicate ref 'K-1': another customer in "
        "this file has it; a ref is one record's own"
    ) in err.splitlines()
    assert registry_state() == before

    billing.run("UPDATE customers SET number = 'K-3' WHERE id = 3")
    assert sync()[0] == 0
    assert Customer.objects.count() == 5


def test_rows_that_name_no_customer_or_hold_binary_data_are_problems(
    billing, tmp_path, monkeypatch, db
):
    billing.run(
        "INSERT INTO customers (id, name) VALUES (1, 'Ett AB')",
        "INSERT INTO contacts (id, customer_id, first_name, last_name, photo) VALUES "
        "(1, 1, 'Anna', 'Berg', '\\x89504e47'), (2, NULL, 'Ingen', 'Kund', NULL)",
    )
    people = (
        "SELECT 'P-' || id AS ref, customer_id AS customer, first_name, last_name, "
        "photo AS postal_address FROM contacts ORDER BY id"
    )
    with_sources(
        tmp_path,
        monkeypatch,
        sql_source(customers="SELECT id AS ref, name FROM customers", people=people),
    )
    code, _, err = sync()
    assert code == 2, err
    assert "people row 1 (ref 'P-1'), column postal_address: is binary data, not text" in err
    assert "people row 2 (ref 'P-2'), column customer: names no customer" in err
    assert not Customer.objects.exists()


def test_a_query_the_importer_cannot_read_names_its_section(billing, tmp_path, monkeypatch, db):
    billing.run("INSERT INTO customers (id, name) VALUES (1, 'Ett AB')")
    declared = sql_source(
        customers="SELECT id AS ref, name, name AS people FROM customers",
        people="SELECT 'P-' || id AS ref, first_name, last_name FROM contacts",
    )
    with_sources(tmp_path, monkeypatch, declared)
    code, _, err = sync()
    assert code == 2, err
    assert "source billing: customers: column people is a section of its own" in err
    assert "source billing: people: the query needs exactly one column customer" in err


def test_an_unreachable_database_changes_nothing_and_fails(source, monkeypatch):
    assert sync()[0] == 0
    before = registry_state()
    monkeypatch.setenv("GALLRA_TEST_BILLING_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    code, _, err = sync()
    assert code == 1
    assert "source billing: dataset 'billing' (PostgreSQL 127.0.0.1:1/nowhere)" in err
    assert "nothing changed" in err
    assert registry_state() == before
    assert SourceRun.objects.latest("pk").outcome == "unavailable"


def test_a_query_that_fails_in_the_database_is_named(source, tmp_path, monkeypatch):
    declared = sql_source(customers="SELECT id AS ref, name FROM kunder WHERE name LIKE 'A%'")
    with_sources(tmp_path, monkeypatch, declared)
    code, _, err = sync()
    assert code == 1 and "query customers: " in err and "kunder" in err


def test_the_query_runs_read_only(source, tmp_path, monkeypatch):
    """Even a function that writes is stopped by the read-only transaction."""
    source.run(
        "CREATE FUNCTION sneaky() RETURNS TEXT LANGUAGE plpgsql AS "
        "$$ BEGIN DELETE FROM contracts; RETURN 'x'; END $$"
    )
    declared = sql_source(customers="SELECT id AS ref, name, sneaky() AS org_number FROM customers")
    with_sources(tmp_path, monkeypatch, declared)
    code, _, err = sync()
    assert code == 1 and "read-only transaction" in err
    with source.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM contracts").scalar() == 2


def test_json_output(source):
    code, out, _ = sync("--format", "json")
    assert code == 0
    result = json.loads(out)["sources"][0]
    assert result["outcome"] == "ok" and result["records"]["customer"]["created"] == 2


def test_an_unknown_source_is_bad_usage_and_no_sources_is_nothing_to_do(
    source, tmp_path, monkeypatch
):
    code, _, err = sync("--source", "crm")
    assert code == 2 and "no such source (it has: billing)" in err
    with_sources(tmp_path, monkeypatch, "")
    code, out, _ = sync()  # a cron `gallra sync && gallra enforce` goes on
    assert code == 0 and "declares no [[source]]: nothing to sync" in out
    code, out, _ = sync("--format", "json")
    assert code == 0 and json.loads(out)["sources"] == []


def policy_problems(tmp_path, text: str) -> list[str]:
    from gallra import config

    path = tmp_path / "p.toml"
    path.write_text(config.DEFAULT_POLICY.read_text(encoding="utf-8") + text)
    with pytest.raises(PolicyError) as failed:
        load_policy(path, registry_fields())
    return [f"{p.key}: {p.message}" for p in failed.value.problems]


WRONG = """
[[source]]

id = "billing"
kind = "sql"
dataset = "faktura"
customers = "SELECT id AS ref, name FROM customers; DELETE FROM customers"
agreements = "WITH gone AS (DELETE FROM contracts RETURNING *) SELECT * FROM gone"
people = "SELECT * INTO kopia FROM contacts"
accounts = "UPDATE contacts SET username = NULL"
path = "/etc/passwd"

[[source]]
id = "web1"
kind = "passwd"
path = "etc/passwd"
uid_min = 60001
base_dn = "dc=x"

[[source]]
id = "katalog"
kind = "ldap"
url = "http://ldap.example"
bind_dn = "cn=gallra"
filter = "uid=*"
"""  # noqa: S608 (SQL a policy must refuse)


def test_policy_check_refuses_a_source_that_could_write_or_names_nothing(tmp_path, db):
    found = policy_problems(tmp_path, BILLING_DATASET + WRONG)
    assert sorted(found) == sorted(
        [
            "source[0].dataset: names dataset 'faktura', which the policy does not define",
            "source[0].customers: must be one statement: nothing may follow ';'",
            "source[0].agreements: must only read: DELETE is not allowed in a source's query",
            "source[0].people: must only read: INTO is not allowed in a source's query",
            "source[0].accounts: must be a SELECT (or WITH ... SELECT) statement",
            'source[0].path: belongs to kind = "passwd", not "sql"',
            'source[1].base_dn: belongs to kind = "ldap", not "passwd"',
            "source[1].path: 'etc/passwd' is not an absolute path",
            "source[1].uid_min: cannot be larger than uid_max",
            "source[2].url: must be ldap://HOST[:PORT] or ldaps://HOST[:PORT]",
            'source[2]: an "ldap" source needs `base_dn`: where the accounts are',
            "source[2]: give both `bind_dn` and `password_file`, or neither (an anonymous search)",
            "source[2].filter: 'uid=*' is not an LDAP filter such as (uid=*)",
        ]
    )


def test_a_sqlite_billing_database_and_its_connection_is_left_writable(tmp_path, monkeypatch, db):
    import sqlite3

    from gallra.datasets import sources

    path = tmp_path / "billing.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, orgnr TEXT);"
        "CREATE TABLE contracts (id INTEGER PRIMARY KEY, customer_id INTEGER, start_date TEXT,"
        " end_date TEXT);"
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, customer_ref TEXT, email TEXT, body TEXT);"
        "INSERT INTO customers VALUES (7, 'Sju AB', NULL);"
        "INSERT INTO contracts VALUES (70, 7, '2024-01-01', NULL);"
    )
    conn.commit()
    conn.close()
    monkeypatch.setenv("GALLRA_TEST_BILLING_URL", f"sqlite:///{path}")
    declared = sql_source(
        customers="SELECT id AS ref, name FROM customers",
        agreements="SELECT 'AG-' || id AS ref, customer_id AS customer, start_date AS start, "
        'end_date AS "end" FROM contracts',
    )
    with_sources(tmp_path, monkeypatch, declared)
    code, _, err = sync()
    assert code == 0, err
    assert Agreement.objects.get(ref="AG-70").customer.ref == "7"
    dataset = next(d for d in current_policy().dataset if d.id == "billing")
    with sources.engine(dataset).begin() as conn:  # query_only was for the sync alone
        conn.exec_driver_sql("INSERT INTO notes (id, body) VALUES (1, 'x')")
    for key in [k for k in sources._engines if str(path) in k[1]]:
        sources._engines.pop(key).dispose()
