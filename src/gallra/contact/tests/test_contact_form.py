"""The contact form relays by SMTP and keeps nothing once delivered (P20-P21); the privacy
centre opens a data-subject request. Both refuse bad input, missing CSRF tokens, bots and
floods. Their mail goes out of the outbox after the answer (`deliver`)."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client

from gallra.outbox.delivery import deliver
from gallra.outbox.models import Mail
from gallra.subjects.models import SubjectRequest, VerificationLink
from gallra.subjects.tests.conftest import ANNA


@pytest.fixture(autouse=True)
def forms(settings):
    cache.clear()
    settings.GALLRA_FORM_MIN_SECONDS = 0
    settings.GALLRA_CONTACT_TO = "info@redcloud.example"
    settings.GALLRA_BASE_URL = "https://gallra.redcloud.example"
    yield
    cache.clear()


def token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return re.search(r'name="t" value="([^"]+)"', page.text).group(1)


def rows() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


MESSAGE = "Hej! Jag vill ha en offert på drift av två servrar. Ring 070-123 45 67."


def post_contact(client, **changes):
    data = {
        "name": "Erik Nilsson",
        "email": "erik@nilssons-bygg.example",
        "message": MESSAGE,
        "t": token(client, "/contact/"),
        "website": "",
    } | changes
    return client.post("/contact/", data)


def test_a_message_arrives_by_mail_and_nothing_of_it_is_stored(client, smtp, db):
    before = rows()
    response = post_contact(client)
    assert response.status_code == 200
    assert "Webbplatsen sparar inget av det när det har levererats" in response.text  # Swedish
    assert smtp.messages == [] and Mail.objects.count() == 1  # sealed in the outbox
    assert deliver().sent == 1
    ((to, subject, body),) = smtp.messages
    assert to == ["info@redcloud.example"] and "Erik Nilsson" in subject
    assert MESSAGE in body
    used = "contact.UsedFormToken"  # the form's time stamp, used up: a random nonce
    assert rows() == before | {used: before[used] + 1}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"email": "inte-en-adress"}, "email"),
        ({"message": ""}, "message"),
        ({"message": "x" * 5001}, "message"),
        ({"name": ""}, "name"),
    ],
)
def test_bad_input_names_the_field_and_sends_nothing(client, smtp, db, changes, field):
    response = post_contact(client, **changes)
    assert response.status_code == 400
    assert f'id="id_{field}_errors"' in response.text
    assert not Mail.objects.exists()


def test_a_post_without_csrf_token_is_refused(smtp, db):
    strict = Client(enforce_csrf_checks=True)
    data = {"name": "A", "email": "a@example.se", "message": "hej"}
    response = strict.post("/contact/", data | {"t": token(strict, "/contact/")})
    assert response.status_code == 403
    assert smtp.messages == []


def test_bots_are_refused(client, smtp, settings, db):
    assert post_contact(client, website="http://spam.example").status_code == 400
    assert post_contact(client, t="forged").status_code == 400
    settings.GALLRA_FORM_MIN_SECONDS = 60  # a person needs more than no time at all
    assert post_contact(client).status_code == 400
    assert smtp.messages == []


def test_flooding_is_refused(client, smtp, db):
    statuses = [post_contact(client).status_code for _ in range(7)]
    assert statuses == [200] * 5 + [429, 429]
    deliver()
    assert len(smtp.messages) == 5
    other = Client(REMOTE_ADDR="192.0.2.77")  # another client is not affected
    assert post_contact(other).status_code == 200


def test_the_privacy_centre_opens_a_case_and_mails_the_link(client, smtp, registry):
    data = {
        "kind": "erasure",
        "email": ANNA["email"],
        "name": "",
        "details": "",
        "t": token(client, "/privacy/centre/"),
        "website": "",
    }
    response = client.post("/privacy/centre/", data)
    assert response.status_code == 200
    case = SubjectRequest.objects.get()
    assert case.kind == "erasure" and case.ref in response.text
    assert smtp.messages == [] and not VerificationLink.objects.exists()  # after the answer
    deliver()
    assert VerificationLink.objects.filter(request=case).count() == 1
    ((to, _subject, body),) = smtp.messages
    assert to == [ANNA["email"]] and "/subject/verify/" in body


def test_the_privacy_centre_does_not_tell_whether_an_address_is_known(client, smtp, registry):
    def ask(address):
        data = {
            "kind": "access",
            "email": address,
            "name": "",
            "details": "",
            "t": token(client, "/privacy/centre/"),
            "website": "",
        }
        response = client.post("/privacy/centre/", data)
        return re.sub(r"DSR-\d{4}-[0-9A-Z]{8}", "REF", response.text), response.status_code

    assert ask("okand@example.se") == ask(ANNA["email"])
    deliver()
    assert len(smtp.messages) == 1  # only the address on record got a link
    assert SubjectRequest.objects.count() == 2  # staff see both


def test_a_public_rectification_waits_for_staff_to_name_the_field(client, smtp, registry):
    data = {
        "kind": "rectification",
        "email": ANNA["email"],
        "name": "Anna Berg",
        "details": "Mitt efternamn är nu Lund.",
        "t": token(client, "/privacy/centre/"),
        "website": "",
    }
    assert client.post("/privacy/centre/", data).status_code == 200
    case = SubjectRequest.objects.get()
    assert case.note == "Mitt efternamn är nu Lund." and case.change_field == ""
