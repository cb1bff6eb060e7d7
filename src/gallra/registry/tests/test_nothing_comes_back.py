"""Nothing deleted comes back (issue 17, item 4): a nightly import from the billing system must
not re-create what retention or an erasure deleted. It imports the rest, exits 1 and names each
refused record with its rule, day and source; what gallra remembers holds no ref in clear and
ends under the policy's own rule."""

from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import translation

from gallra import config
from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import PolicyError, current_policy, load_policy, registry_fields
from gallra.registry import tombstones
from gallra.registry.importing import import_document, import_file
from gallra.registry.models import Account, Customer, Hold, Invoice, Person, Prospect, Tombstone
from gallra.retention.enforcement import enforce
from gallra.subjects import cases, erasure
from gallra.subjects.identity import Identity

ENDED = date(2025, 3, 31)  # the last agreement of C-GONE ends
YEAR_LATER = date(2026, 3, 31)  # P15: one year later the customer's data is due
RULE = "customer-data-after-relationship"

BILLING = {
    "customers": [
        {
            "ref": "C-GONE",
            "name": "Avslutad AB",
            "org_number": "556677-8899",
            "agreements": [{"ref": "AG-GONE", "start": "2020-01-01", "end": ENDED.isoformat()}],
            "people": [
                {
                    "ref": "P-GONE",
                    "first_name": "Greta",
                    "last_name": "Gåtts",
                    "email": "greta@avslutad.se",
                    "mobile": "+46701234567",
                    "roles": ["user", "contact"],
                }
            ],
            "accounts": [
                {"ref": "AC-GONE", "person": "P-GONE", "username": "greta", "opened": "2020-01-01"}
            ],
            "invoices": [
                {
                    "ref": "INV-GONE",
                    "number": "2024-117",
                    "issued": "2024-06-30",
                    "fiscal_year_end": "2024-12-31",
                    "amount": "1200.00",
                    "billing_contact": "P-GONE",
                }
            ],
        },
        {
            "ref": "C-STAYS",
            "name": "Kvar AB",
            "agreements": [{"ref": "AG-STAYS", "start": "2021-01-01"}],
            "people": [
                {
                    "ref": "P-STAYS",
                    "first_name": "Kurt",
                    "last_name": "Kvar",
                    "email": "kurt@kvar.se",
                    "roles": ["contact"],
                }
            ],
        },
    ],
    "prospects": [{"ref": "PR-OLD", "name": "Gammal Prospekt", "created": "2025-01-02"}],
}


@pytest.fixture(autouse=True)
def english():
    """The sentences are asserted in English; one test reads the Swedish."""
    with translation.override("en"):
        yield


def _file(tmp_path, document) -> str:
    path = tmp_path / "billing-export.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def _enforced(tmp_path) -> str:
    path = _file(tmp_path, BILLING)
    import_file(path)
    enforce(current_policy(), YEAR_LATER)
    assert not Customer.objects.filter(ref="C-GONE").exists()
    assert not Prospect.objects.exists()  # three months after its last activity (P19)
    assert Invoice.objects.filter(ref="INV-GONE").exists()  # Bokföringslagen keeps it
    return path


def test_the_same_import_after_enforce_recreates_nothing_and_names_each_refusal(db, tmp_path):
    path = _enforced(tmp_path)
    with pytest.raises(CommandError) as failed:
        call_command("import", path)
    assert failed.value.returncode == 1  # imported the rest, refused some
    assert not Customer.objects.filter(ref="C-GONE").exists()
    assert not Person.objects.filter(ref="P-GONE").exists()
    assert not Person.objects.filter(mobile="+46701234567").exists()
    assert not Account.objects.filter(ref="AC-GONE").exists()
    assert not Prospect.objects.exists()
    # What stays is still imported: the customer that stays, the invoice the law keeps.
    assert Customer.objects.filter(ref="C-STAYS").exists()
    invoice = Invoice.objects.get(ref="INV-GONE")
    assert invoice.customer_id is None and invoice.billing_contact_id is None


def test_the_report_names_record_rule_day_and_source(db, tmp_path, capsys):
    path = _enforced(tmp_path)
    with pytest.raises(CommandError):
        call_command("import", path)
    err = capsys.readouterr().err
    for ref in ("C-GONE", "P-GONE", "AC-GONE", "AG-GONE"):
        line = next(line for line in err.splitlines() if f" {ref}:" in line)
        assert f"under rule {RULE} on {YEAR_LATER}" in line, line
        assert f"it is still in {path}; delete it there" in line, line
    prospect = next(line for line in err.splitlines() if " PR-OLD:" in line)
    assert "under rule correspondence-and-sales" in prospect
    assert prospect.startswith(f"{path}: prospects[0]: prospect PR-OLD")


def test_the_refusal_reads_in_swedish(db, tmp_path):
    path = _enforced(tmp_path)
    with translation.override("sv"):
        report = import_file(path)
    customer = next(r for r in report.refused if r.ref == "C-GONE")
    assert customer.reason == (
        f"gallrad enligt regeln {RULE} den {YEAR_LATER}; den finns kvar i {path}; radera den där"
    )


def test_a_second_refused_import_changes_nothing_and_keeps_the_evidence_whole(db, tmp_path):
    path = _enforced(tmp_path)
    entries = Entry.objects.count()
    first = import_file(path)
    second = import_file(path)
    assert [str(r) for r in first.refused] == [str(r) for r in second.refused]
    assert sorted({r.ref for r in second.refused}) == [
        "AC-GONE",
        "AG-GONE",
        "C-GONE",
        "P-GONE",
        "PR-OLD",
    ]
    assert second.changed() == 0
    assert Entry.objects.count() == entries  # an import deletes nothing and logs no deletion
    assert verify().ok


def test_a_new_record_beside_the_refused_ones_is_created(db, tmp_path):
    _enforced(tmp_path)
    document = copy.deepcopy(BILLING)
    document["customers"][1]["people"].append(
        {"ref": "P-NEW", "first_name": "Nina", "last_name": "Ny", "email": "nina@kvar.se"}
    )
    report = import_document(document, source="faktura-db")
    assert report.counts["person"]["created"] == 1
    assert Person.objects.filter(ref="P-NEW").exists()
    assert all("it is still in faktura-db" in r.reason for r in report.refused)


def test_a_child_under_a_refused_customer_is_refused_with_it(db, tmp_path):
    _enforced(tmp_path)
    document = copy.deepcopy(BILLING)
    document["customers"][0]["people"].append(
        {"ref": "P-LATE", "first_name": "Lena", "last_name": "Sen", "email": "lena@avslutad.se"}
    )
    report = import_document(document)
    late = next(r for r in report.refused if r.ref == "P-LATE")
    assert late.reason == "it belongs to customer C-GONE, which was deleted"
    assert not Person.objects.filter(ref="P-LATE").exists()


def test_an_erased_subject_does_not_come_back(db, tmp_path):
    path = _file(tmp_path, BILLING)
    import_file(path)
    now = datetime(2026, 5, 4, 10, tzinfo=UTC)
    identity = Identity.of("kurt@kvar.se")
    request = cases.open_request("erasure", identity, received=now.date(), now=now, actor="t")
    cases.verify_by_staff(request, "called back on the number on record", "anna", now=now)
    erasure.erase_request(current_policy(), request, now=now, at=now.date(), actor="t")
    assert not Person.objects.filter(ref="P-STAYS").exists()
    report = import_file(path)
    refusal = next(r for r in report.refused if r.ref == "P-STAYS")
    assert refusal.reason.startswith(f"erased on request {request.ref} on 2026-05-04")
    assert not Person.objects.filter(ref="P-STAYS").exists()


def test_a_hold_naming_a_deleted_record_is_refused_not_a_problem(db, tmp_path):
    _enforced(tmp_path)
    document = {"holds": [{"ref": "H-1", "target": "customer:C-GONE", "reason": "legal"}]}
    report = import_document(document)
    assert [(r.record_type, r.ref) for r in report.refused] == [("hold", "H-1")]
    assert report.refused[0].reason == "it names customer C-GONE, which was deleted"
    assert not Hold.objects.filter(ref="H-1").exists()


def test_the_memory_holds_no_ref_or_data_in_clear(db, tmp_path):
    _enforced(tmp_path)
    assert Tombstone.objects.filter(record_type="customer").count() == 1
    secret_words = ("C-GONE", "P-GONE", "greta", "Gåtts", "+46701234567", "Avslutad")
    table = connection.ops.quote_name(Tombstone._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (our own table name)
        stored = repr(cursor.fetchall())
    for word in secret_words:
        assert word not in stored
    # The digest is keyed: without the installation's key it is not the plain hash of the ref.
    plain = hashlib.sha256(b"tombstone\0customer\0C-GONE").hexdigest()
    assert not Tombstone.objects.filter(digest=plain).exists()
    assert Tombstone.objects.filter(digest=tombstones.digest("customer", "C-GONE")).exists()


def test_the_memory_ends_under_its_own_rule_with_evidence(db, tmp_path):
    path = _enforced(tmp_path)
    rule = current_policy().deletion_memory_rule()
    last_day = rule.due_date(YEAR_LATER)
    day_before = date.fromordinal(last_day.toordinal() - 1)
    enforce(current_policy(), day_before)
    assert Tombstone.objects.filter(deleted_on=YEAR_LATER).exists()
    enforce(current_policy(), last_day)
    assert not Tombstone.objects.filter(deleted_on=YEAR_LATER).exists()
    entry = Entry.objects.filter(action="delete", record_type="tombstone").get()
    assert entry.rule == rule.id and entry.count >= 5
    # From then on the source is trusted again: the provider had two years to delete it there.
    report = import_file(path)
    assert report.refused == [] and Customer.objects.filter(ref="C-GONE").exists()


def test_a_policy_without_a_deletion_memory_rule_is_refused(tmp_path):
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    start = text.index('[[rule]]\nid = "deletion-memory"')
    broken = tmp_path / "policy.toml"
    broken.write_text(text[:start] + text[start:].split("\n\n", 1)[1], encoding="utf-8")
    with pytest.raises(PolicyError) as refused:
        load_policy(broken, registry_fields())
    assert "deletion_memory.category" in str(refused.value)
    assert 'exactly one rule, with trigger = "created"' in str(refused.value)
