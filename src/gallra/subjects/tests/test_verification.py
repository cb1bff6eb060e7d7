"""Identity is verified before anything is released or erased: a one-time link by e-mail
(a real SMTP server on loopback), or a staff member's record of how."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gallra.evidence.models import Entry
from gallra.outbox.delivery import deliver
from gallra.policy.loading import current_policy
from gallra.subjects import cases
from gallra.subjects.identity import Identity
from gallra.subjects.models import SubjectRequest
from gallra.subjects.tests.conftest import ANNA, NOW


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.GALLRA_BASE_URL = "https://gallra.redcloud.example"


def anna_request(kind="access") -> SubjectRequest:
    return cases.open_request(
        kind, Identity.of(ANNA["email"]), received=NOW.date(), now=NOW, actor="test"
    )


def link_path(inbox) -> str:
    ((to, subject, body),) = inbox.messages
    assert to == [ANNA["email"]]
    url = re.search(r"https://gallra\.redcloud\.example(/subject/verify/[^/\s]+/)", body)
    return url.group(1)


def test_the_link_reaches_the_address_on_record_and_verifies_once(smtp, registry, client):
    request = anna_request()
    cases.send_link(current_policy(), request, now=timezone.now(), actor="staff")
    assert smtp.messages == []  # queued in the outbox, sent after the answer
    deliver()
    path = link_path(smtp)
    assert Entry.objects.filter(action="subject.link_sent", data__request=request.ref).exists()
    assert "DSR-" in smtp.messages[0][1] and "7 dagar" in smtp.messages[0][2]

    page = client.get(path)  # opening the link (or a mail scanner doing so) verifies nothing
    assert page.status_code == 200 and b"<form" in page.content
    request.refresh_from_db()
    assert not request.is_verified

    confirmed = client.post(path)
    assert confirmed.status_code == 200
    assert request.ref.encode() in confirmed.content
    request.refresh_from_db()
    assert request.is_verified and request.status == "verified"
    assert "one-time link" in request.verified_how
    assert Entry.objects.filter(action="subject.verified", data__request=request.ref).exists()

    again = client.post(path)
    assert again.status_code == 410
    assert "redan använts" in again.content.decode()


def test_an_expired_link_verifies_nothing(smtp, registry, client):
    request = anna_request()
    sent = timezone.now() - timedelta(days=7, minutes=1)
    link = cases.send_link(current_policy(), request, now=sent, actor="staff")
    deliver()
    assert link.expires < timezone.now()
    response = client.post(link_path(smtp))
    assert response.status_code == 410
    assert "gått ut" in response.content.decode()
    request.refresh_from_db()
    assert not request.is_verified


def test_a_made_up_link_verifies_nothing(client, db):
    response = client.post("/subject/verify/not-a-real-token/")
    assert response.status_code == 410
    assert "ogiltig" in response.content.decode()


def test_no_link_goes_to_an_address_gallra_does_not_hold(smtp, registry):
    request = cases.open_request(
        "access", Identity.of("okand@example.se"), received=NOW.date(), now=NOW, actor="test"
    )
    with pytest.raises(cases.SubjectUnknown, match="on record nowhere"):
        cases.send_link(current_policy(), request, now=NOW, actor="staff")
    deliver()
    assert smtp.messages == []


def test_nothing_is_released_or_erased_before_verification(registry):
    request = anna_request("erasure")
    with pytest.raises(cases.CaseError, match="not verified"):
        cases.request_for(ANNA["email"], ("erasure",))
    cases.verify_by_staff(request, "met in person, showed ID card", "lisa", now=NOW)
    assert cases.request_for(ANNA["email"].upper(), ("erasure",)) == request
    with pytest.raises(cases.CaseError, match="say how"):
        cases.verify_by_staff(anna_request(), "  ", "lisa", now=NOW)


def test_deadline_is_one_month_and_extends_only_when_told_in_time(registry):
    request = cases.open_request(
        "access", Identity.of(ANNA["email"]), received=date(2026, 1, 31), now=NOW, actor="t"
    )
    assert request.due == date(2026, 3, 2)  # 28 February is a Saturday (1182/71 Art. 3(4))
    with pytest.raises(cases.CaseError, match="after the first month"):
        cases.extend(request, 2, "many systems", date(2026, 3, 3), now=NOW, actor="t")
    with pytest.raises(cases.CaseError, match="1 or 2"):
        cases.extend(request, 3, "many systems", date(2026, 2, 1), now=NOW, actor="t")
    with pytest.raises(cases.CaseError, match="reason"):
        cases.extend(request, 2, "", date(2026, 2, 1), now=NOW, actor="t")
    request.refresh_from_db()
    assert request.due == date(2026, 3, 2)
    cases.extend(request, 2, "Begäran rör tre system.", date(2026, 2, 10), now=NOW, actor="t")
    request.refresh_from_db()
    assert request.due == date(2026, 4, 30) and request.extension_told_on == date(2026, 2, 10)


def test_the_admin_lists_open_requests_overdue_first(admin_client, registry):
    late = cases.open_request(
        "access", Identity.of("a@example.se"), received=date(2025, 1, 1), now=NOW, actor="t"
    )
    soon = cases.open_request(
        "erasure", Identity.of("b@example.se"), received=date(2026, 11, 1), now=NOW, actor="t"
    )
    done = cases.open_request(
        "access", Identity.of("c@example.se"), received=date(2024, 1, 1), now=NOW, actor="t"
    )
    cases.close(done, {}, now=NOW, actor="t")
    later = cases.open_request(
        "access", Identity.of("d@example.se"), received=date(2026, 12, 1), now=NOW, actor="t"
    )
    page = admin_client.get("/admin/subjects/subjectrequest/").content.decode()
    positions = [page.index(r.ref) for r in (late, soon, later, done)]
    assert positions == sorted(positions)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--email", "inte-en-adress"], "not a valid e-mail"),
        (["--email", "a@example.se", "--personnummer", "19811218-9875"], "check digit"),
        (["--email", "a@example.se", "--received", "2026-13-01"], "not a date"),
    ],
)
def test_malformed_requests_are_refused_and_nothing_is_stored(db, args, message):
    with pytest.raises(CommandError, match=message) as caught:
        call_command("subject", "request", "--type", "access", *args)
    assert caught.value.returncode == 2
    assert not SubjectRequest.objects.exists()
