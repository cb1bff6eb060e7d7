"""Export and erasure across gallra and three real databases (PostgreSQL, MariaDB, SQLite)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.models import Correspondence, Invoice, Person
from gallra.subjects import cases, erasure, export
from gallra.subjects.identity import Identity
from gallra.subjects.models import SubjectRequest
from gallra.subjects.tests.conftest import ANNA, BO, NOW

AT = NOW.date()


def verified(kind: str, identity: Identity) -> SubjectRequest:
    request = cases.open_request(kind, identity, received=AT, now=NOW, actor="test")
    cases.verify_by_staff(request, "called back on the number on record", "anna.staff", now=NOW)
    return request


def export_zip(identity: Identity, lang: str = "sv") -> tuple[dict, str, bytes]:
    request = verified("access", identity)
    data = export.export_request(current_policy(), request, now=NOW, at=AT, lang=lang, actor="test")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["data.json", "index.html"]
        return (json.loads(archive.read("data.json")), archive.read("index.html").decode(), data)


def keys(data: dict) -> set[tuple[str, str, str]]:
    return {
        (store, table, row["key"])
        for store, tables in data["stores"].items()
        for table, rows in tables.items()
        for row in rows
    }


ANNA_ID = Identity.of(ANNA["email"], ANNA["name"], personnummer=ANNA["pnr"])

EXPECTED_ANNA = {
    ("shop", "customers", "1"),
    ("shop", "orders", "10"),
    ("shop", "orders", "11"),
    ("shop", "order_lines", "100"),
    ("shop", "order_lines", "101"),
    ("shop", "order_lines", "110"),
    ("shop", "invoices", "1000"),
    ("support", "tickets", "1"),
    ("support", "messages", "10"),
    ("support", "messages", "21"),
    ("support", "messages", "11"),
    ("support", "messages", "12"),  # others', in her ticket
    ("crm", "contacts", "1"),
    ("crm", "calls", "1"),
    ("gallra", "person", "P-anna"),
    ("gallra", "account", "A-anna"),
    ("gallra", "invoice", "F-1"),
    ("gallra", "correspondence", "M-anna"),
}


def test_export_finds_every_row_of_the_subject_and_nothing_of_anyone_else(connected, registry):
    data, html, raw = export_zip(ANNA_ID)
    assert keys(data) == EXPECTED_ANNA
    # Bo's messages in Anna's ticket are there, with everything about Bo hidden.
    messages = {r["key"]: r for r in data["stores"]["support"]["messages"]}
    assert messages["11"]["data"] == {"author_email": None, "author_name": None, "body": None}
    assert set(messages["11"]["hidden_because_about_another_person"]) == {
        "author_email",
        "author_name",
        "body",
    }
    # Anna's own text keeps her personnummer and loses Bo's name and address.
    assert ANNA["pnr"] in messages["10"]["data"]["body"]
    text = json.dumps(data, ensure_ascii=False) + html
    for secret in (
        BO["email"],
        BO["name"],
        BO["pnr"],
        BO["phone"],
        "Lillgatan",
        "Till Bo",
        "support@redcloud.example",
    ):
        assert secret not in text, secret
    assert "bo.ek" not in raw.decode("latin-1").lower()


def test_the_readable_page_says_what_why_since_when_and_until_when(connected, registry):
    _, html, _ = export_zip(ANNA_ID)
    assert "Kontaktuppgifter" in html  # the category, by the policy's name
    assert "Kontakta användare i supportärenden" in html  # why (purpose)
    assert "avtal" in html  # legal basis: contract
    assert "2024-01-10" in html  # since when: the shop customer row
    # until when: invoices are kept by law through 2032 (7 years after 2025's year end)
    assert (
        "sparas enligt lag (Bokföringslagen (1999:1078) 7 kap. 2 §) till och med 2032-12-31" in html
    )
    assert "1 år efter att det sista avtalet har upphört" in html  # dataset rows: the rule
    _, english, _ = export_zip(ANNA_ID, lang="en")
    assert "Your personal data at Red Cloud IT" in english
    assert "Contact details" in english


def test_erasure_removes_or_overwrites_exactly_what_the_declaration_says(connected, registry):
    before = connected.snapshot()
    request = verified("erasure", ANNA_ID)
    erasure.erase_request(current_policy(), request, now=NOW, at=AT, actor="test")
    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.DONE
    after = connected.snapshot()

    # PostgreSQL: Anna's customer row gone; orders kept but de-identified and unlinked;
    # gift messages cleared; her invoice kept by law; Bo untouched.
    assert set(after["shop", "customers"]) == {2}
    for order in (10, 11):
        assert after["shop", "orders"][order] | {"delivery_name": None} == (
            before["shop", "orders"][order]
            | {"delivery_name": None, "delivery_address": None, "customer_id": None}
        )
        assert after["shop", "orders"][order]["delivery_name"] == "[raderad]"
    for line in (100, 101, 110):
        assert after["shop", "order_lines"][line] == before["shop", "order_lines"][line] | {
            "gift_message": None
        }
    assert after["shop", "invoices"] == before["shop", "invoices"]
    # MariaDB: her ticket with every message in it, and her message in Bo's ticket.
    assert set(after["support", "tickets"]) == {2}
    assert set(after["support", "messages"]) == {20}
    # SQLite: her contact (stored in capitals) and its calls.
    assert set(after["crm", "contacts"]) == {2} and set(after["crm", "calls"]) == {2}
    # Bo's rows are exactly as they were.
    assert after["shop", "customers"][2] == before["shop", "customers"][2]
    assert after["shop", "orders"][20] == before["shop", "orders"][20]
    assert after["shop", "order_lines"][200] == before["shop", "order_lines"][200]
    # gallra: person, account and mail gone; the invoice kept by law.
    assert not Person.objects.filter(ref="P-anna").exists()
    assert Person.objects.filter(ref="P-bo").exists()
    assert list(Correspondence.objects.values_list("ref", flat=True)) == ["M-bo"]
    assert Invoice.objects.filter(ref="F-1").exists()

    kept = {(k["store"], k["table"], k["key"]): k for k in request.answer["kept"]}
    assert kept["shop", "invoices", "1000"]["until"] == "2032-12-31"
    assert kept["gallra", "invoice", "F-1"]["reason"] == "law"
    assert set(kept) == {("shop", "invoices", "1000"), ("gallra", "invoice", "F-1")}
    assert verify().ok

    # A second export finds nothing but what the law keeps.
    data, html, _ = export_zip(ANNA_ID)
    assert keys(data) == {("shop", "invoices", "1000")}


def test_erasure_is_in_the_evidence_log_by_ref_and_the_certificate_holds_no_personal_data(
    connected, registry
):
    request = verified("erasure", ANNA_ID)
    erasure.erase_request(current_policy(), request, now=NOW, at=AT, actor="test")
    entries = list(Entry.objects.filter(action="subject.erase"))
    refs = {r for e in entries for r in e.refs}
    assert {"shop:customers:1", "support:tickets:1", "crm:contacts:1", "P-anna"} <= refs
    log_text = json.dumps([e.refs for e in entries] + [e.data for e in entries])
    assert ANNA["email"] not in log_text and "Anna" not in log_text
    request.refresh_from_db()
    html = erasure.certificate_html(request, current_policy(), "sv")
    assert request.ref in html and "a***@kund.example" in html
    assert ANNA["email"] not in html and ANNA["name"] not in html and ANNA["pnr"] not in html
    assert "2032-12-31" in html  # what is kept, and until when


def test_an_unreachable_mariadb_keeps_the_request_open_and_a_rerun_finishes(
    connected, registry, monkeypatch
):
    monkeypatch.setenv("GALLRA_TEST_SUPPORT_URL", connected.urls["support"].replace("3306", "3399"))
    request = verified("erasure", ANNA_ID)
    erasure.erase_request(current_policy(), request, now=NOW, at=AT, actor="test")
    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.IN_PROGRESS
    steps = {s.store: s for s in request.steps.all()}
    assert steps["support"].status == "failed"
    assert "MariaDB" in steps["support"].detail and "3399" in steps["support"].detail
    assert "MariaDB" in request.note
    assert {steps[s].status for s in ("gallra", "shop", "crm")} == {"done"}
    assert set(connected.rows("support", "tickets")) == {1, 2}  # untouched
    assert set(connected.rows("shop", "customers")) == {2}  # done

    monkeypatch.setenv("GALLRA_TEST_SUPPORT_URL", connected.urls["support"])
    erasure.erase_request(current_policy(), request, now=NOW, at=AT, actor="test")
    request.refresh_from_db()
    assert request.status == SubjectRequest.Status.DONE
    assert set(connected.rows("support", "tickets")) == {2}
    # Nothing was done twice: one erasure entry per store, naming each row once.
    shop = Entry.objects.get(action="subject.erase", data__store="shop")
    assert shop.data["deleted"] == {"customers": 1}
    assert shop.data["overwritten"] == {"orders": 2, "order_lines": 3}
    support = Entry.objects.get(action="subject.erase", data__store="support")
    assert sorted(support.refs) == sorted(
        ["support:tickets:1"] + [f"support:messages:{k}" for k in (10, 11, 12, 21)]
    )
    assert verify().ok


def test_sql_in_a_subject_identifier_is_only_ever_a_value(connected, registry):
    before = connected.snapshot()
    sneaky = Identity.of(
        "x'or'1'='1@kund.example",
        "x'; DROP TABLE tickets; --",
        username="'; DELETE FROM customers; --",
    )
    data, _, _ = export_zip(sneaky)
    assert keys(data) == set()
    request = verified("erasure", sneaky)
    erasure.erase_request(current_policy(), request, now=NOW, at=AT, actor="test")
    assert connected.snapshot() == before


def test_a_subject_found_only_by_personnummer_in_one_dataset(connected, registry):
    other_address = Identity.of("anna.privat@example.se", personnummer=ANNA["pnr"][2:])
    data, _, _ = export_zip(other_address)
    assert keys(data) == {("crm", "contacts", "1"), ("crm", "calls", "1")}


@pytest.mark.parametrize("mistake", ["wrong-port", "missing-variable"])
def test_export_names_the_dataset_it_cannot_read_and_releases_nothing(
    connected, registry, monkeypatch, mistake
):
    if mistake == "wrong-port":
        monkeypatch.setenv("GALLRA_TEST_SHOP_URL", connected.urls["shop"].replace("5432", "5499"))
    else:
        monkeypatch.delenv("GALLRA_TEST_SHOP_URL")
    request = verified("access", ANNA_ID)
    with pytest.raises(export.ExportIncomplete, match="shop"):
        export.export_request(current_policy(), request, now=NOW, at=AT, lang="sv", actor="t")
    request.refresh_from_db()
    assert request.is_open
