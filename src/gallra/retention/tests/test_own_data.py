"""gallra keeps its own promise: closed requests, consent proofs, duplicate marks, the outbox
and the anti-spam state each go under their rule in the policy, on the due day and not the
day before, with evidence that names no one; an open request never goes; a policy that
leaves one of them without a fitting rule is refused."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from gallra import config
from gallra.api.models import ApiEventSeen, ApiToken
from gallra.consent.models import ConsentDecision
from gallra.contact.models import UsedFormToken
from gallra.evidence.models import Entry
from gallra.logins.models import IngestToken, WebEventSeen
from gallra.outbox.models import Mail
from gallra.policy.loading import PolicyError, current_policy, load_policy, registry_fields
from gallra.retention import stores
from gallra.staff.models import LoginFailure
from gallra.subjects.models import Objection, Restriction, StoreStep, SubjectRequest

DAY = date(2024, 3, 10)  # the day each row was made: late in the evening, Stockholm time
NOW = datetime(2040, 1, 1, 12, tzinfo=UTC)


def late(day: date) -> datetime:
    """23:30 in Stockholm: already the next day in no zone gallra counts by."""
    return datetime.combine(day, time(23, 30), timezone.get_default_timezone())


def request(ref: str, *, closed: datetime | None, status: str = "done") -> SubjectRequest:
    return SubjectRequest.objects.create(
        ref=ref,
        kind="erasure",
        email=f"{ref.lower()}@example.se",
        name="Sigrid Test",
        personnummer="19800101-0000",
        received=DAY - timedelta(days=20),
        due=DAY,
        status=status,
        closed_at=closed,
    )


def user():
    return get_user_model().objects.create_user("api-sender", password="x" * 20)


# kind, store id, record type, the rows' model, make one row made at `when`
Make = Callable[[datetime], object]
KINDS: list[tuple[str, str, str, type, Make]] = [
    (
        "subject_requests",
        "subject_requests",
        "subject_request",
        SubjectRequest,
        lambda when: request("DSR-OLD", closed=when),
    ),
    (
        "consent_proofs",
        "consent_proofs",
        "consent_decision",
        ConsentDecision,
        lambda when: ConsentDecision.objects.create(
            consent_id="7f0c2a9e-0000-4000-8000-000000000001",
            action="accept_all",
            categories={"statistics": True},
            banner_revision=1,
            policy_revision=1,
            text_hash="0" * 64,
            locale="sv",
            at=when,
        ),
    ),
    (
        "duplicate_marks",
        "api_event_marks",
        "api_event_mark",
        ApiEventSeen,
        lambda when: ApiEventSeen.objects.create(
            token=ApiToken.objects.create(name="web", user=user(), digest="d" * 64, created=when),
            digest="e" * 64,
            at=when,
            received=when,
        ),
    ),
    (
        "duplicate_marks",
        "web_event_marks",
        "web_event_mark",
        WebEventSeen,
        lambda when: WebEventSeen.objects.create(
            token=IngestToken.objects.create(name="web", digest="d" * 64, created=when),
            digest="e" * 64,
            at=when,
            received=when,
        ),
    ),
    (
        "outbox",
        "outbox",
        "queued_mail",
        Mail,
        lambda when: Mail.objects.create(
            kind="subject_link",
            ref="DSR-MAIL",
            sealed=b"x",
            key_id="k",
            queued=when,
            next_attempt=when,
        ),
    ),
    (
        "form_guard",
        "form_tokens",
        "used_form_token",
        UsedFormToken,
        lambda when: UsedFormToken.objects.create(nonce="a" * 32, issued=when),
    ),
    (
        "form_guard",
        "staff_login_failures",
        "staff_login_failure",
        LoginFailure,
        lambda when: LoginFailure.objects.create(key="b" * 64, at=when),
    ),
]


def store(store_id: str) -> stores.Store:
    return next(s for s in stores.stores() if s.id == store_id)


def run(store_id: str, at: date, dry_run: bool = False) -> dict:
    return store(store_id).enforce(
        current_policy(), at, actor="enforce", now=lambda: NOW, dry_run=dry_run
    )


@pytest.mark.parametrize(
    ("kind", "store_id", "record_type", "model", "make"),
    KINDS,
    ids=[k[1] for k in KINDS],
)
def test_each_kind_goes_on_its_due_day_not_the_day_before(
    db, kind, store_id, record_type, model, make
):
    make(late(DAY))
    rule = current_policy().own_data_rule(kind)
    due = rule.due_date(DAY)

    assert run(store_id, due - timedelta(days=1)) == {"rule": rule.id, "deleted": 0}
    assert model.objects.count() == 1
    assert run(store_id, due, dry_run=True) == {"rule": rule.id, "deleted": 1}
    assert model.objects.count() == 1  # a dry run counts

    assert run(store_id, due) == {"rule": rule.id, "deleted": 1}
    assert model.objects.count() == 0
    entry = Entry.objects.get(action="delete", record_type=record_type)
    assert (entry.rule, entry.count, entry.at) == (rule.id, 1, NOW)
    assert entry.data == {"deletion_date": due.isoformat()}
    assert entry.customers == ""
    # Only a random ref names what went (a request's, a mail's): no name, address or id.
    assert entry.refs in ([], ["DSR-OLD"], ["DSR-MAIL"])


def test_jufcorp_keeps_each_kind_as_long_as_docs_retention_says():
    policy = current_policy()
    kept = {
        kind: str(policy.own_data_rule(kind).keep_for)
        for kind in (
            "subject_requests",
            "consent_proofs",
            "duplicate_marks",
            "outbox",
            "form_guard",
            "evidence",
        )
    }
    assert kept == {
        "subject_requests": "P3Y",
        "consent_proofs": "P2Y",
        "duplicate_marks": "P7D",
        "outbox": "P7D",
        "form_guard": "P2D",
        "evidence": "P10Y",
    }


def test_an_open_request_or_one_still_restricting_never_goes(db):
    far = date(2039, 1, 1)
    request("DSR-OPEN", closed=None, status="received")
    request("DSR-WORK", closed=None, status="in_progress")
    restricted = request("DSR-RESTRICTED", closed=late(DAY))
    Restriction.objects.create(email=restricted.email, request=restricted, since=late(DAY))
    run("subject_requests", far)
    assert set(SubjectRequest.objects.values_list("ref", flat=True)) == {
        "DSR-OPEN",
        "DSR-WORK",
        "DSR-RESTRICTED",
    }


def test_a_lifted_restriction_counts_from_its_lifting_and_goes_with_its_request(db):
    closed = request("DSR-LIFTED", closed=late(DAY))
    lifted = DAY + timedelta(days=400)
    Restriction.objects.create(
        email=closed.email, request=closed, since=late(DAY), lifted=late(lifted)
    )
    Objection.objects.create(
        email=closed.email,
        request=closed,
        category="correspondence",
        legal_basis="legitimate_interests",
        outcome="upheld",
        at=late(DAY),
    )
    StoreStep.objects.create(request=closed, store="gallra", status="done", at=late(DAY))
    rule = current_policy().own_data_rule("subject_requests")

    run("subject_requests", rule.due_date(DAY))
    assert SubjectRequest.objects.filter(ref="DSR-LIFTED").exists()
    run("subject_requests", rule.due_date(lifted) - timedelta(days=1))
    assert SubjectRequest.objects.filter(ref="DSR-LIFTED").exists()
    run("subject_requests", rule.due_date(lifted))
    assert not SubjectRequest.objects.exists()
    assert not (
        Restriction.objects.exists() or Objection.objects.exists() or StoreStep.objects.exists()
    )


def test_enforce_says_what_went_in_swedish_and_english(db, settings):
    settings.GALLRA_ENFORCE_ARMED = True
    request("DSR-OLD", closed=late(DAY))
    UsedFormToken.objects.create(nonce="a" * 32, issued=late(DAY))
    UsedFormToken.objects.create(nonce="c" * 32, issued=late(DAY))
    at = date(2030, 1, 1)
    said = {}
    for lang in ("sv", "en"):
        out = io.StringIO()
        call_command(
            "enforce",
            "--at",
            at.isoformat(),
            "--lang",
            lang,
            "--dry-run",
            stdout=out,
            stderr=io.StringIO(),
        )
        said[lang] = out.getvalue()
    assert "closed-requests: 1 avslutat ärende om de registrerades rättigheter" in said["sv"]
    assert "form-guard: 2 använda tidsstämplar från formulär" in said["sv"]
    assert "closed-requests: 1 closed data-subject request" in said["en"]
    assert "form-guard: 2 used form time stamps" in said["en"]


# -- the policy check ---------------------------------------------------------------------


def refused(tmp_path, old: str, new: str) -> str:
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "policy.toml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(PolicyError) as found:
        load_policy(path, registry_fields())
    return str(found.value)


def test_a_kind_without_its_category_is_refused(tmp_path):
    said = refused(
        tmp_path, "\n[residency]", '\n[own_data]\nevidence = "audit_trail"\n\n[residency]'
    )
    assert (
        "own_data.evidence: names category 'audit_trail', which the policy does not define" in said
    )


def test_a_rule_with_the_wrong_trigger_is_refused(tmp_path):
    said = refused(
        tmp_path,
        'trigger = "last_activity"             # the day the request was',
        'trigger = "created"             # the day the request was',
    )
    assert (
        'closed data-subject requests need exactly one rule, with trigger = "last_activity" '
        "(the day the request was closed)"
    ) in said


def test_a_second_rule_for_a_kind_is_refused(tmp_path):
    said = refused(
        tmp_path, 'applies_to = ["duplicate_marks"]', 'applies_to = ["duplicate_marks", "outbox"]'
    )
    assert 'mails waiting in the outbox need exactly one rule, with trigger = "created"' in said


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'keep_for = "P2D"  ',
            'keep_for = "P1D"  ',
            "used form time stamps and failed staff logins must be kept at least P2D",
        ),
        (
            'keep_for = "P7D"                      # delivery',
            'keep_for = "P3D"  # delivery',
            "mails waiting in the outbox must be kept at least P4D",
        ),
        (
            'keep_for = "P2Y"                      # longer than any cookie',
            'keep_for = "P12M"  # longer than any cookie',
            "consent proofs must be kept at least P13M: cookie '_pk_id*' set under a decision",
        ),
        (
            'keep_for = "P10Y"',
            'keep_for = "P5D"',
            "the evidence log's entries must be kept at least P7D: a restore replays",
        ),
    ],
    ids=["form-guard", "outbox", "consent", "evidence"],
)
def test_a_rule_too_short_for_gallra_to_work_is_refused(tmp_path, old, new, message):
    assert message in refused(tmp_path, old, new)


def test_the_shortest_rules_the_check_allows_still_cover_what_gallra_needs():
    """The check's P2D and P4D stand for the form stamp's day and the outbox's three days:
    whole days counted from the day a row was made, they must outlast them."""
    from gallra.contact import guard
    from gallra.outbox import delivery

    assert timedelta(seconds=guard.MAX_AGE) <= timedelta(days=2 - 1)
    assert timedelta(days=4 - 1) >= delivery.GIVE_UP_AFTER


def test_a_hold_on_own_data_is_refused(tmp_path):
    said = refused(tmp_path, 'keep_for = "P3Y"\n', 'keep_for = "P3Y"\nunless = ["hold"]\n')
    assert "closed data-subject requests are kept by no hold or other role" in said
