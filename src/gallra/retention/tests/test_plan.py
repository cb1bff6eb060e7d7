"""`gallra plan` and `explain`: the dates the policy promises, on the edges where dates go wrong."""

import io
import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command

from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Hold
from gallra.retention.enforcement import enforce
from gallra.retention.planner import plan, threshold


def decisions(at: str, record_type: str | None = None) -> dict[tuple[str, str], object]:
    return {
        (d.record_type, d.ref): d
        for d in plan(current_policy(), date.fromisoformat(at), record_type)
    }


def customer(ref, agreements, people=(), accounts=(), invoices=()):
    return {
        "ref": ref,
        "name": f"Kund {ref} AB",
        "agreements": [
            {"ref": f"{ref}-A{i}", "start": start, "end": end}
            for i, (start, end) in enumerate(agreements)
        ],
        "people": list(people),
        "accounts": list(accounts),
        "invoices": list(invoices),
    }


def person(ref, *roles):
    return {"ref": ref, "first_name": "Test", "last_name": ref, "roles": list(roles)}


@pytest.mark.parametrize(
    ("ended", "day_before", "due"),
    [
        ("2024-02-29", "2025-02-27", "2025-02-28"),  # leap day + P1Y = 28 Feb
        ("2025-03-15", "2026-03-14", "2026-03-15"),
        ("2023-12-31", "2024-12-30", "2024-12-31"),
    ],
)
def test_customer_data_is_due_one_year_after_the_last_agreement(db, ended, day_before, due):
    import_document({"customers": [customer("C-1", [("2020-01-01", ended)], [person("P-1")])]})
    assert decisions(day_before)[("customer", "C-1")].action == "keep"
    assert decisions(day_before)[("customer", "C-1")].reason == "not_yet"
    on_the_day = decisions(due)
    for key in [("customer", "C-1"), ("person", "P-1"), ("agreement", "C-1-A0")]:
        assert on_the_day[key].action == "delete", key
    assert on_the_day[("customer", "C-1")].due == date.fromisoformat(due)


@pytest.mark.parametrize(
    ("last_activity", "kept_on", "due"),
    [
        ("2025-01-31", "2025-04-29", "2025-04-30"),  # 31 Jan + 3 months = 30 Apr
        ("2023-11-30", "2024-02-28", "2024-02-29"),  # leap year February
        ("2024-11-30", "2025-02-27", "2025-02-28"),
        ("2025-10-31", "2026-01-30", "2026-01-31"),
    ],
)
def test_correspondence_is_due_three_months_after_last_activity(db, last_activity, kept_on, due):
    import_document(
        {
            "prospects": [
                {
                    "ref": "PR-1",
                    "name": "Prospekt",
                    "created": "2020-01-01",
                    "last_activity": last_activity,
                }
            ],
        }
    )
    assert decisions(kept_on)[("prospect", "PR-1")].action == "keep"
    assert decisions(due)[("prospect", "PR-1")].action == "delete"


@pytest.mark.parametrize(
    ("fiscal_year_end", "kept_until", "due"),
    [
        ("2025-12-31", "2032-12-31", "2033-01-01"),  # the issue's own example
        ("2025-06-30", "2032-12-31", "2033-01-01"),  # a broken financial year ends mid-year
        ("2024-02-29", "2031-12-31", "2032-01-01"),
    ],
)
def test_invoices_are_kept_through_the_seventh_year(db, fiscal_year_end, kept_until, due):
    invoice = {
        "ref": "F-1",
        "number": "1",
        "issued": "2020-01-01",
        "fiscal_year_end": fiscal_year_end,
        "amount": "100",
    }
    import_document(
        {"customers": [customer("C-1", [("2020-01-01", "2021-01-01")], invoices=[invoice])]}
    )
    kept = decisions(kept_until)[("invoice", "F-1")]
    assert (kept.action, kept.reason) == ("keep", "legal")
    assert kept.details["until"] == date.fromisoformat(kept_until)
    assert "Bokföringslagen" in kept.details["source"]
    assert decisions(due)[("invoice", "F-1")].action == "delete"


def test_an_invoice_outlives_its_customer(db):
    invoice = {
        "ref": "F-1",
        "number": "1",
        "issued": "2020-05-01",
        "fiscal_year_end": "2020-12-31",
        "amount": "100",
    }
    import_document(
        {"customers": [customer("C-1", [("2019-01-01", "2020-06-30")], invoices=[invoice])]}
    )
    enforce(current_policy(), date(2021, 7, 1))
    kept = decisions("2021-07-01")
    assert ("customer", "C-1") not in kept
    assert kept[("invoice", "F-1")].action == "keep"
    from gallra.registry.models import Invoice

    invoice = Invoice.objects.get(ref="F-1")
    assert invoice.customer is None and invoice.customer_ref == "C-1"
    assert invoice.buyer_name == "Kund C-1 AB"  # what the law asks the invoice to show


def test_a_renewed_agreement_keeps_the_customer(db):
    import_document(
        {"customers": [customer("C-1", [("2019-01-01", "2020-12-31"), ("2021-01-01", None)])]}
    )
    d = decisions("2030-01-01")[("customer", "C-1")]
    assert (d.action, d.reason) == ("keep", "active")


def test_a_renewal_signed_after_the_end_restarts_the_clock(db):
    import_document(
        {
            "customers": [
                customer("C-1", [("2019-01-01", "2020-12-31"), ("2021-06-01", "2022-05-31")])
            ]
        }
    )
    assert decisions("2022-01-01")[("customer", "C-1")].action == "keep"
    assert decisions("2023-05-30")[("customer", "C-1")].action == "keep"
    assert decisions("2023-05-31")[("customer", "C-1")].action == "delete"


def test_a_closed_account_goes_while_the_company_stays(db):
    import_document(
        {
            "customers": [
                customer(
                    "C-1",
                    [("2020-01-01", None)],
                    people=[person("P-1", "user"), person("P-2", "user", "contact")],
                    accounts=[
                        {
                            "ref": "A-1",
                            "person": "P-1",
                            "username": "ett",
                            "opened": "2020-01-01",
                            "closed": "2024-02-29",
                        },
                        {
                            "ref": "A-2",
                            "person": "P-2",
                            "username": "tva",
                            "opened": "2020-01-01",
                            "closed": "2024-02-29",
                        },
                    ],
                )
            ]
        }
    )
    before, after = decisions("2025-02-27"), decisions("2025-02-28")
    assert before[("account", "A-1")].action == "keep"
    assert after[("account", "A-1")].action == "delete"
    assert after[("person", "P-1")].action == "delete"
    assert after[("account", "A-2")].action == "delete"
    # P-2 is still the company's contact: the closed-account rule does not take them.
    assert (after[("person", "P-2")].action, after[("person", "P-2")].reason) == (
        "keep",
        "other_role",
    )
    assert after[("customer", "C-1")].action == "keep"


def _held_prospect(until):
    import_document(
        {
            "prospects": [{"ref": "PR-1", "name": "Prospekt", "created": "2025-01-10"}],
            "holds": [
                {"ref": "H-1", "target": "prospect:PR-1", "reason": "negotiation", "until": until}
            ],
        }
    )


def test_a_hold_keeps_until_it_expires(db):
    _held_prospect("2025-09-30")
    held = decisions("2025-09-30")[("prospect", "PR-1")]
    assert (held.action, held.reason, held.details["hold"]) == ("keep", "hold", "H-1")
    assert held.due == date(2025, 4, 10)  # due since then, kept by the hold
    assert decisions("2025-10-01")[("prospect", "PR-1")].action == "delete"


def test_a_hold_added_after_the_record_was_due_still_keeps_it(db):
    import_document({"prospects": [{"ref": "PR-1", "name": "Prospekt", "created": "2025-01-10"}]})
    assert decisions("2025-06-01")[("prospect", "PR-1")].action == "delete"
    Hold.objects.create(
        ref="H-9",
        target_type="prospect",
        target_ref="PR-1",
        reason="negotiation",
        until=date(2025, 12, 31),
    )
    assert decisions("2025-06-01")[("prospect", "PR-1")].reason == "hold"
    enforce(current_policy(), date(2025, 6, 1))
    assert decisions("2025-06-01")[("prospect", "PR-1")].action == "keep"


def test_a_hold_on_one_document_keeps_the_customer_that_owns_it(db):
    import_document(
        {
            "customers": [
                customer("C-1", [("2019-01-01", "2020-01-31")], [person("P-1", "user")])
                | {
                    "documents": [
                        {"ref": "D-1", "title": "Avtal", "created": "2019-01-01", "content": "…"}
                    ]
                }
            ],
            "holds": [{"ref": "H-1", "target": "document:D-1", "reason": "legal", "until": None}],
        }
    )
    d = decisions("2022-01-01")
    assert d[("document", "D-1")].reason == "hold"
    assert d[("person", "P-1")].action == "delete"
    assert (d[("customer", "C-1")].action, d[("customer", "C-1")].reason) == ("keep", "dependant")


def test_enforce_without_a_date_uses_the_day_in_stockholm(db, settings):
    """23:30 UTC on 14 March is already 15 March in Stockholm, the day the customer is due."""
    import_document({"customers": [customer("C-1", [("2020-01-01", "2025-03-15")])]})
    from django.utils import timezone

    instant = datetime(2026, 3, 14, 23, 30, tzinfo=UTC)
    assert timezone.localdate(instant) == date(2026, 3, 15)
    summary = enforce(current_policy(), timezone.localdate(instant), now=lambda: instant)[-1]
    assert summary.deleted[("customer-data-after-relationship", "customer")] == 1


def test_threshold_inverts_the_calendar_arithmetic():
    policy = current_policy()
    rule = next(r for r in policy.rule if r.id == "correspondence-and-sales")
    assert threshold(rule, date(2025, 4, 30)) == date(2025, 1, 31)  # 29-31 Jan all land on 30 Apr
    assert threshold(rule, date(2025, 4, 29)) == date(2025, 1, 29)


def test_plan_json_and_explain_in_both_languages(db):
    _held_prospect("2026-01-31")
    out = io.StringIO()
    call_command("plan", "--at", "2025-12-01", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert rows == [
        {
            "type": "prospect",
            "ref": "PR-1",
            "rule": "correspondence-and-sales",
            "due": "2025-04-10",
            "action": "keep",
            "reason": "hold",
            "details": {"hold": "H-1", "hold_reason": "negotiation", "until": "2026-01-31"},
        }
    ]
    sv, en = io.StringIO(), io.StringIO()
    call_command("explain", "prospect", "PR-1", "--at", "2025-12-01", "--lang", "sv", stdout=sv)
    call_command("explain", "prospect", "PR-1", "--at", "2025-12-01", "--lang", "en", stdout=en)
    assert "spärrad av H-1 (pågående förhandling) till och med 2026-01-31" in sv.getvalue()
    assert "held by H-1 (ongoing negotiation) until 2026-01-31" in en.getvalue()
