"""`gallra demo`: the same synthetic data each time, with every state the policy treats apart."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Max
from django.utils import timezone

from gallra.instance import demo
from gallra.registry.models import (
    RECORD_MODELS,
    Account,
    Agreement,
    Customer,
    Hold,
    TechnicalDocument,
)

# Today, a leap day (two years back has no 29 February) and New Year's Day ("last month" is
# December of the year before).
DAYS = [None, date(2024, 2, 29), date(2027, 1, 1)]


def _counts() -> dict[str, int]:
    return {m.record_type: m.objects.count() for m in RECORD_MODELS}


def _run_demo(capsys, at: date | None) -> dict:
    """The data only: the first hour's steps (first_day.py) are the browser test's."""
    args = ["--format", "json", "--data-only"] + (["--at", at.isoformat()] if at else [])
    call_command("demo", *args)
    return json.loads(capsys.readouterr().out)


def test_the_demo_document_is_the_same_for_the_same_day():
    today = date(2026, 3, 15)
    first, second = demo.build(today), demo.build(today)
    assert first == second
    assert len(first["customers"]) >= 24
    refs = [c["ref"] for c in first["customers"]]
    refs += [
        r["ref"] for key in ("prospects", "quotes", "correspondence", "holds") for r in first[key]
    ]
    assert all(ref.startswith(demo.PREFIX) for ref in refs)
    people = [p for c in first["customers"] for p in c["people"]]
    assert all(p["email"].endswith(".example") for p in people)
    assert all(p["mobile"] == "" or p["mobile"].startswith("070-174 06 ") for p in people)


@pytest.mark.django_db
@pytest.mark.parametrize("at", DAYS, ids=["today", "leap-day", "new-year"])
def test_demo_twice_adds_nothing(capsys, at):
    first = _run_demo(capsys, at)
    after_first = _counts()
    assert all(c["created"] > 0 for c in first["counts"].values())
    second = _run_demo(capsys, at)
    assert _counts() == after_first
    for kind, counts in second["counts"].items():
        assert counts["created"] == 0 and counts["updated"] == 0, kind
        assert counts["unchanged"] == after_first[kind], kind


@pytest.mark.django_db
@pytest.mark.parametrize("at", DAYS, ids=["today", "leap-day", "new-year"])
def test_every_state_is_present(capsys, at):
    _run_demo(capsys, at)
    today = at or timezone.localdate()
    first_of_month = today.replace(day=1)
    last_month = (first_of_month - timedelta(days=1)).replace(day=1)

    active = Customer.objects.filter(agreements__end__isnull=True).distinct()
    assert active.filter(kind="company").exists() and active.filter(kind="private").exists()

    ended = Customer.objects.exclude(agreements__end__isnull=True).annotate(
        last_end=Max("agreements__end")
    )
    assert ended.filter(last_end__gte=last_month, last_end__lt=first_of_month).exists()
    two_years = demo.years_before(today, 2)
    assert ended.filter(
        last_end__lte=two_years, last_end__gte=two_years - timedelta(days=31)
    ).exists()

    # A user account closed while its company stays a customer.
    assert Account.objects.filter(
        closed__isnull=False, person__customer__in=active, person__customer__kind="company"
    ).exists()
    # A customer whose first agreement ended and whose second runs.
    assert (
        Customer.objects.filter(agreements__end__isnull=False)
        .filter(pk__in=active.values("pk"))
        .exists()
    )
    assert Agreement.objects.filter(end__isnull=True).count() == active.count()

    for reason in Hold.Reason.values:
        assert Hold.objects.filter(reason=reason, until__gt=today).exists(), reason
    assert Hold.objects.filter(until__lt=today).exists()  # one that has run out

    years = {
        d.year for d in Customer.objects.values_list("invoices__fiscal_year_end", flat=True) if d
    }
    assert len(years) >= 8
    for name in ("Prospect", "Quote", "Correspondence"):
        model = next(m for m in RECORD_MODELS if m.__name__ == name)
        dates = [getattr(r, "created", None) or r.received for r in model.objects.all()]
        limit = today - timedelta(days=92)
        assert any(d < limit for d in dates) and any(d >= limit for d in dates), name


@pytest.mark.django_db
def test_demo_documents_are_sealed(capsys):
    data = demo.build(timezone.localdate())
    _run_demo(capsys, None)
    wanted = data["customers"][0]["documents"][0]
    document = TechnicalDocument.objects.get(ref=wanted["ref"])
    assert wanted["content"].encode() not in bytes(document.content)
    assert document.customer.unseal(document.content).decode() == wanted["content"]


@pytest.mark.django_db
def test_demo_needs_init(settings):
    from django.core.management.base import CommandError

    settings.GALLRA_KEYS = None
    with pytest.raises(CommandError, match="gallra init") as raised:
        call_command("demo")
    assert raised.value.returncode == 2


@pytest.mark.django_db
def test_the_demo_brings_subject_requests_one_of_them_overdue(capsys):
    from gallra.subjects.models import SubjectRequest

    _run_demo(capsys, None)
    requests = list(SubjectRequest.objects.order_by("received"))
    assert [r.kind for r in requests] == ["access", "erasure", "rectification"]
    assert requests[0].is_overdue() and not requests[1].is_overdue()
    assert requests[1].is_verified and not requests[0].is_verified
    _run_demo(capsys, None)
    assert SubjectRequest.objects.count() == 3
