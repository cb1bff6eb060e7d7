"""One customer's whole life, 2020-2034, against the JufCorp policy text.

Signed 2020-03-01 and renewed 2022-03-01; a user's account closed 2023-06-30; a prospect in
a negotiation held until 2024-12-31; invoices for the financial years 2020-2025; the last
agreement ends 2025-10-31. The expected sets below are written by hand from the policy, with
the clause that decides each.

For every date the registry is fresh (imported inside a transaction that is rolled back), so
each date shows what exists on it when enforcement has run at least once by then. A second
test runs enforcement cumulatively, in date order, on one registry, and must see the same.
"""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from django.core.management import call_command
from django.db import transaction

from gallra import config
from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import RECORD_MODELS, Hold
from gallra.retention.enforcement import enforce
from gallra.retention.planner import plan

BFL = "Bokföringslagen (1999:1078) 7 kap. 2 §"
CUSTOMER_RULE = "customer-data-after-relationship"
ACCOUNT_RULE = "closed-account"
INVOICE_RULE = "accounting-records"
MAIL_RULE = "correspondence-and-sales"

LIFE = {
    "customers": [
        {
            "ref": "C-LIFE",
            "name": "Livstid AB",
            "agreements": [
                {"ref": "AG-1", "start": "2020-03-01", "end": "2022-02-28"},
                {"ref": "AG-2", "start": "2022-03-01", "end": "2025-10-31"},  # the renewal
            ],
            "people": [
                {
                    "ref": "P-CONTACT",
                    "first_name": "Karin",
                    "last_name": "Kontakt",
                    "email": "karin@livstid.se",
                    "roles": ["user", "contact", "billing_contact"],
                },
                {
                    "ref": "P-USER",
                    "first_name": "Ulf",
                    "last_name": "Användare",
                    "email": "ulf@livstid.se",
                    "roles": ["user"],
                },
            ],
            "accounts": [
                {
                    "ref": "AC-CONTACT",
                    "person": "P-CONTACT",
                    "username": "karin",
                    "opened": "2020-03-01",
                },
                {
                    "ref": "AC-USER",
                    "person": "P-USER",
                    "username": "ulf",
                    "opened": "2020-03-01",
                    "closed": "2023-06-30",
                },
            ],
            "requests": [{"ref": "R-1", "kind": "order", "created": "2020-03-01"}],
            "documents": [
                {"ref": "D-1", "title": "Nätverk", "created": "2020-04-01", "content": "..."}
            ],
            "credentials": [
                {
                    "ref": "CR-SITE",
                    "system": "router",
                    "username": "admin",
                    "secret": "s1",
                    "created": "2020-03-01",
                },
                {
                    "ref": "CR-USER",
                    "system": "vpn",
                    "username": "ulf",
                    "secret": "s2",
                    "created": "2020-03-01",
                    "account": "AC-USER",
                },
            ],
            "invoices": [
                {
                    "ref": f"I-{year}",
                    "number": f"{year}-001",
                    "issued": f"{year}-12-15",
                    "fiscal_year_end": f"{year}-12-31",
                    "amount": "12500.00",
                    "billing_contact": "P-CONTACT",
                }
                for year in range(2020, 2026)
            ],
        }
    ],
    "prospects": [
        {
            "ref": "PR-1",
            "name": "Framtid AB",
            "email": "info@framtid.se",
            "created": "2024-01-15",
            "last_activity": "2024-03-31",
        },
    ],
    "quotes": [{"ref": "Q-1", "prospect": "PR-1", "created": "2024-02-29"}],
    "correspondence": [
        {"ref": "M-OLD", "customer": "C-LIFE", "received": "2021-01-31"},
        {"ref": "M-SUPPORT", "customer": "C-LIFE", "received": "2024-03-31"},
        {"ref": "M-NEG", "prospect": "PR-1", "received": "2024-03-31"},
    ],
    "holds": [
        {
            "ref": "H-NEG",
            "target": "prospect:PR-1",
            "reason": "negotiation",
            "until": "2024-12-31",
            "note": "offert under förhandling",
        },
    ],
}

CUSTOMER_DATA = {
    ("customer", "C-LIFE"),
    ("agreement", "AG-1"),
    ("agreement", "AG-2"),
    ("person", "P-CONTACT"),
    ("account", "AC-CONTACT"),
    ("request", "R-1"),
    ("document", "D-1"),
    ("credential", "CR-SITE"),
}
CLOSED_ACCOUNT = {("person", "P-USER"), ("account", "AC-USER"), ("credential", "CR-USER")}
NEGOTIATION = {("prospect", "PR-1"), ("quote", "Q-1"), ("correspondence", "M-NEG")}
INVOICES = {("invoice", f"I-{year}") for year in range(2020, 2026)}
EVERYTHING = (
    CUSTOMER_DATA
    | CLOSED_ACCOUNT
    | NEGOTIATION
    | INVOICES
    | {("correspondence", "M-OLD"), ("correspondence", "M-SUPPORT")}
)


def invoices_from(first_year: int) -> set:
    return {("invoice", f"I-{year}") for year in range(first_year, 2026)}


# What exists on each date once enforcement has run (fresh registry each date).
EXISTS = {
    # Nothing is due yet: M-OLD (received 2021-01-31) is due 2021-04-30 (P19: 3 months).
    "2021-01-01": EVERYTHING,
    # P19, "three months": 31 Jan + P3M = 30 Apr 2021, so M-OLD is gone. AC-USER closed
    # today; P15 "the same for a single user account": a year after, not yet.
    "2023-06-30": EVERYTHING - {("correspondence", "M-OLD")},
    "2024-06-29": EVERYTHING - {("correspondence", "M-OLD")},
    # P15, closed account: closed 2023-06-30 + P1Y = 2024-06-30; its credential goes with it
    # and so does P-USER, who is only a user and has no open account. P19: M-SUPPORT,
    # received 31 Mar + P3M = 30 Jun. M-NEG, PR-1 and Q-1 are as old, but P19 "unless
    # agreements or ongoing negotiations justify it": held by H-NEG until 2024-12-31.
    "2024-06-30": EVERYTHING
    - {("correspondence", "M-OLD"), ("correspondence", "M-SUPPORT")}
    - CLOSED_ACCOUNT,
    "2024-07-01": EVERYTHING
    - {("correspondence", "M-OLD"), ("correspondence", "M-SUPPORT")}
    - CLOSED_ACCOUNT,
    # The hold ended 2024-12-31: the negotiation's records are due (P19). The last
    # agreement ends today; P15: "within one year" after it ended, so the customer stays.
    "2025-10-31": CUSTOMER_DATA | INVOICES,
    "2026-10-30": CUSTOMER_DATA | INVOICES,
    # P15: "After the last agreement ends, all data about the customer is deleted within one
    # year": 2025-10-31 + P1Y. P17: invoices stay, as the law requires.
    "2026-10-31": INVOICES,
    "2026-11-01": INVOICES,
    # P17, Bokföringslagen 7 kap. 2 §: "through the seventh year after the end of the
    # calendar year in which the financial year closed": FY 2020 is kept through 2027-12-31.
    "2028-02-29": invoices_from(2021),
    # FY 2021, 2022, 2023 kept through 2028, 2029, 2030-12-31.
    "2031-01-01": invoices_from(2024),
    # FY 2025 (closed 2025-12-31) is kept through 2032-12-31, due 2033-01-01.
    "2033-01-01": set(),
    "2034-01-01": set(),
}
# Under which rule each record goes (P15 customer data / closed account, P17, P19).
RULE = {
    **{key: CUSTOMER_RULE for key in CUSTOMER_DATA},
    **{key: ACCOUNT_RULE for key in CLOSED_ACCOUNT},
    **{key: INVOICE_RULE for key in INVOICES},
    **{key: MAIL_RULE for key in NEGOTIATION},
    ("correspondence", "M-OLD"): MAIL_RULE,
    ("correspondence", "M-SUPPORT"): MAIL_RULE,
}
CUSTOMER_DUE = date(2026, 10, 31)


@pytest.fixture
def policy(db, monkeypatch):
    monkeypatch.setenv("GALLRA_POLICY", str(config.DEFAULT_POLICY))
    return current_policy()


def contents() -> set[tuple[str, str]]:
    return {
        (m.record_type, ref)
        for m in RECORD_MODELS
        if m is not Hold
        for ref in m.objects.values_list("ref", flat=True)
    }


def test_the_expected_sets_only_shrink():
    dates = sorted(EXISTS)
    for earlier, later in zip(dates, dates[1:], strict=False):
        assert EXISTS[later] <= EXISTS[earlier], (earlier, later)


@pytest.mark.parametrize("at", sorted(EXISTS))
def test_plan_and_enforce_on_each_date(policy, at):
    day = date.fromisoformat(at)
    expected_gone = EVERYTHING - EXISTS[at]
    with transaction.atomic():
        import_document(LIFE)
        assert contents() == EVERYTHING
        decisions = {(d.record_type, d.ref): d for d in plan(policy, day)}
        assert set(decisions) == EVERYTHING
        planned = {key for key, d in decisions.items() if d.action == "delete"}
        assert planned == expected_gone
        for key in planned:
            allowed = {RULE[key]}
            if key in CLOSED_ACCOUNT and day >= CUSTOMER_DUE:
                allowed.add(CUSTOMER_RULE)  # both rules make it due by then; either may say
            assert decisions[key].rule in allowed, key
            if key[0] != "agreement":  # agreements follow their customer, no date of their own
                assert decisions[key].due <= day, key

        enforce(policy, day, actor="life-test")
        assert contents() == EXISTS[at]
        assert verify().ok
        transaction.set_rollback(True)


def test_enforcement_run_cumulatively_in_date_order(policy):
    """Daily life: enforcement runs on each date in turn on one registry."""
    import_document(LIFE)
    for at in sorted(EXISTS):
        enforce(policy, date.fromisoformat(at), actor="life-test")
        assert contents() == EXISTS[at], at
    logged = [(e.record_type, ref) for e in Entry.objects.filter(action="delete") for ref in e.refs]
    assert sorted(logged) == sorted(EVERYTHING)  # each deletion logged once
    result = verify()
    assert result.ok, result.problem
    assert not Hold.objects.exists()  # the expired hold went with the prospect it named


def test_due_dates_in_the_plan(policy):
    """The day each record becomes due, as the policy counts it."""
    import_document(LIFE)
    decisions = {(d.record_type, d.ref): d for d in plan(policy, date(2021, 1, 1))}
    due = {key: d.due for key, d in decisions.items()}
    assert due[("correspondence", "M-OLD")] == date(2021, 4, 30)  # 31 Jan + P3M
    assert due[("quote", "Q-1")] == date(2024, 5, 29)  # 29 Feb + P3M
    assert due[("account", "AC-USER")] == date(2024, 6, 30)  # closed 2023-06-30 + P1Y
    assert due[("person", "P-USER")] == date(2024, 6, 30)
    assert due[("customer", "C-LIFE")] == date(2026, 10, 31)  # last end 2025-10-31 + P1Y
    assert due[("invoice", "I-2025")] == date(2033, 1, 1)


def test_plan_json_command(policy):
    import_document(LIFE)
    out = io.StringIO()
    call_command("plan", "--at", "2024-06-30", "--format", "json", stdout=out)
    rows = json.loads(out.getvalue())
    assert {(r["type"], r["ref"]) for r in rows} == EVERYTHING
    for r in rows:
        assert {"type", "ref", "rule", "due", "action"} <= r.keys()
        assert r["action"] in ("delete", "keep")
        assert ("reason" in r) == (r["action"] == "keep")
    by_key = {(r["type"], r["ref"]): r for r in rows}
    assert {k for k, r in by_key.items() if r["action"] == "delete"} == (
        EVERYTHING - EXISTS["2024-06-30"]
    )
    assert by_key[("account", "AC-USER")] | {"details": None} == {
        "type": "account",
        "ref": "AC-USER",
        "rule": ACCOUNT_RULE,
        "due": "2024-06-30",
        "action": "delete",
        "details": None,
    }
    held = by_key[("correspondence", "M-NEG")]
    assert (held["action"], held["rule"], held["reason"]) == ("keep", MAIL_RULE, "hold")
    assert held["details"]["hold"] == "H-NEG"
    assert held["details"]["until"] == "2024-12-31"
    invoice = by_key[("invoice", "I-2020")]
    assert (invoice["action"], invoice["rule"], invoice["reason"]) == (
        "keep",
        INVOICE_RULE,
        "legal",
    )
    assert invoice["due"] == "2028-01-01"
    assert invoice["details"]["until"] == "2027-12-31"
    customer = by_key[("customer", "C-LIFE")]
    assert (customer["action"], customer["due"]) == ("keep", "2026-10-31")


def explain(*args: str) -> str:
    out = io.StringIO()
    call_command("explain", *args, stdout=out)
    return out.getvalue()


def test_explain_kept_invoice_in_swedish_and_english(policy):
    import_document(LIFE)
    # The customer is gone by then; the invoice of FY 2025 is kept through 2032-12-31 (P17).
    sv = explain("invoice", "I-2025", "--at", "2026-11-01", "--lang", "sv")
    en = explain("invoice", "I-2025", "--at", "2026-11-01", "--lang", "en")
    for text in (sv, en):
        assert BFL in text
        assert "2032-12-31" in text
        assert INVOICE_RULE in text
    assert "sparas enligt lag till och med 2032-12-31" in sv
    assert "kept by law until 2032-12-31" in en


def test_explain_held_correspondence_in_swedish_and_english(policy):
    import_document(LIFE)
    sv = explain("correspondence", "M-NEG", "--at", "2024-07-01", "--lang", "sv")
    en = explain("correspondence", "M-NEG", "--at", "2024-07-01", "--lang", "en")
    for text in (sv, en):
        assert "H-NEG" in text
        assert "2024-12-31" in text
    assert "spärrad av H-NEG (pågående förhandling) till och med 2024-12-31" in sv
    assert "held by H-NEG (ongoing negotiation) until 2024-12-31" in en
    # Once the hold has ended, the same message is deleted under P19.
    after = explain("correspondence", "M-NEG", "--at", "2025-01-01", "--lang", "en")
    assert "is deleted on 2025-01-01 under rule correspondence-and-sales" in after
