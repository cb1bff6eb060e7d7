"""`gallra evidence certificate`: what was deleted for a customer, and what the law still keeps."""

import io
import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import CommandError, call_command

from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.retention.enforcement import enforce

ENDED = {
    "ref": "C-1",
    "name": "Avslutad AB",
    "agreements": [{"ref": "AG-1", "start": "2019-01-01", "end": "2024-06-30"}],
    "people": [
        {"ref": "P-1", "first_name": "Ada", "last_name": "Ek", "roles": ["user"]},
        {"ref": "P-2", "first_name": "Bo", "last_name": "Ek", "roles": ["contact"]},
    ],
    "accounts": [{"ref": "A-1", "person": "P-1", "username": "ada", "opened": "2019-01-01"}],
    "invoices": [
        {
            "ref": "F-1",
            "number": "2024-7",
            "issued": "2024-06-01",
            "fiscal_year_end": "2024-12-31",
            "amount": "500",
        }
    ],
}


def certificate_json(ref: str, lang: str = "sv") -> dict:
    out = io.StringIO()
    call_command("evidence", "certificate", ref, "--format", "json", "--lang", lang, stdout=out)
    return json.loads(out.getvalue())


def test_certificate_after_the_customer_is_deleted(db):
    import_document({"customers": [ENDED]})
    enforce(current_policy(), date(2025, 7, 1), now=lambda: datetime(2025, 7, 1, 2, tzinfo=UTC))
    cert = certificate_json("C-1")
    assert cert["customer_record_exists"] is False
    deleted = {(d["type"], d["count"]) for d in cert["deleted"]}
    # Everything of the customer but its invoice: P15, one year after the last agreement.
    assert deleted == {("customer", 1), ("agreement", 1), ("person", 2), ("account", 1)}
    assert {d["rule"] for d in cert["deleted"]} == {"customer-data-after-relationship"}
    assert {d["on"] for d in cert["deleted"]} == {"2025-07-01"}
    (kept,) = cert["kept_by_law"]
    assert (kept["ref"], kept["kept_until"]) == ("F-1", "2031-12-31")  # P17: the 7th year
    assert "Bokföringslagen" in kept["source"]
    assert cert["evidence"]["chain_intact"] is True and cert["evidence"]["entries"]


def test_certificate_text_in_both_languages(db):
    import_document({"customers": [ENDED]})
    enforce(current_policy(), date(2025, 7, 1))
    sv, en = io.StringIO(), io.StringIO()
    call_command("evidence", "certificate", "C-1", stdout=sv)
    call_command("evidence", "certificate", "C-1", "--lang", "en", stdout=en)
    assert sv.getvalue().startswith("Raderingsintyg — JufCorp AB")
    assert "faktura 2024-7 (F-1) till och med 2031-12-31" in sv.getvalue()
    assert en.getvalue().startswith("Certificate of deletion — JufCorp AB")
    assert "chain intact" in en.getvalue()
    # Nothing personal: the names of the deleted people never appear.
    assert "Ada" not in sv.getvalue() + en.getvalue()


def test_certificate_for_a_customer_not_yet_deleted_says_so(db):
    import_document({"customers": [ENDED]})
    cert = certificate_json("C-1")
    assert cert["customer_record_exists"] is True and cert["deleted"] == []


def test_unknown_customer_is_an_error(db):
    with pytest.raises(CommandError) as failed:
        call_command("evidence", "certificate", "C-404", stdout=io.StringIO())
    assert failed.value.returncode == 2
