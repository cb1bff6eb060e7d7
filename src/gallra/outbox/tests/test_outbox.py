"""The outbox on its own: what it seals, what a key rotation does to it, how it retries a
composer that fails, and what it keeps of an error. The relay here is Django's in-memory
mail backend (`mailoutbox`); the real SMTP server and the public forms are tested in
contact/tests/test_hostile_public_forms.py."""

from __future__ import annotations

import smtplib
import socket
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from gallra import config
from gallra.evidence.models import Entry
from gallra.outbox import delivery, sealing
from gallra.outbox import mail as outbox
from gallra.outbox.models import Mail

pytestmark = pytest.mark.django_db

HELLO = outbox.Message("Hej Anna", "Ditt ärende", ("anna.berg@kund.example",))


def test_a_mail_sealed_before_a_key_rotation_opens_until_its_key_is_dropped(mailoutbox):
    now = timezone.now()
    outbox.queue(HELLO, kind="contact", now=now, ref="R-1")
    config.rotate_master_key(settings.GALLRA_KEY_FILE)  # by `gallra keys rotate`
    settings.GALLRA_KEYS = config.load_keys(settings.GALLRA_KEY_FILE)
    assert delivery.deliver(now=now).sent == 1  # the retired key still opens it
    assert mailoutbox[0].subject == "Hej Anna"

    outbox.queue(HELLO, kind="contact", now=now, ref="R-2")  # under the new master key
    config.rotate_master_key(settings.GALLRA_KEY_FILE)
    config.drop_retired_master_keys(settings.GALLRA_KEY_FILE, keep=set())
    settings.GALLRA_KEYS = config.load_keys(settings.GALLRA_KEY_FILE)
    outcome = delivery.deliver(now=now)
    assert outcome.given_up == 1 and len(mailoutbox) == 1 and not Mail.objects.exists()
    entry = Entry.objects.get(action="mail.given_up")
    assert entry.refs == ["R-2"] and "no longer in the key file" in entry.data["reason"]


def test_a_sealed_mail_holds_nothing_in_clear_and_is_bound_to_its_kind(mailoutbox):
    mail = outbox.queue(HELLO, kind="contact", now=timezone.now())
    row = bytes(Mail.objects.get().sealed)
    assert b"Anna" not in row and b"anna.berg" not in row and b"rende" not in row
    Mail.objects.filter(pk=mail.pk).update(kind="subject_link")  # moved to another kind
    with pytest.raises(sealing.Unreadable, match="does not open"):
        sealing.unseal(mail.key_id, row, "subject_link")
    assert delivery.deliver().given_up == 1 and mailoutbox == []


def test_a_composer_that_fails_is_tried_again_and_one_with_nothing_to_say_sends_nothing(
    mailoutbox,
):
    calls = []

    def compose(data, now):
        calls.append(data["n"])
        if len(calls) == 1:
            raise ConnectionError("the dataset is down")
        return None if data["n"] == 0 else outbox.Message(f"n={data['n']}", "x", ("a@b.se",))

    outbox.register("test_kind", compose=compose)
    with pytest.raises(LookupError):
        outbox.queue_later("no_such_kind", {}, now=timezone.now())
    now = timezone.now()
    outbox.queue_later("test_kind", {"n": 1}, now=now)
    outbox.queue_later("test_kind", {"n": 0}, now=now)
    first = delivery.deliver(now=now)
    assert (first.failed, first.sent, first.nothing_to_send) == (1, 0, 1)
    assert "ConnectionError: the dataset is down" in Mail.objects.get().last_error
    assert delivery.deliver(now=now + timedelta(minutes=1)).sent == 1
    assert [m.subject for m in mailoutbox] == ["n=1"] and not Mail.objects.exists()


@pytest.mark.parametrize(
    ("error", "for_good"),
    [
        (smtplib.SMTPRecipientsRefused({"anna.berg@kund.example": (550, b"no such user")}), True),
        (smtplib.SMTPRecipientsRefused({"anna.berg@kund.example": (451, b"try later")}), False),
        (smtplib.SMTPDataError(554, b"spam <anna.berg@kund.example>"), True),
        (smtplib.SMTPDataError(451, b"later"), False),
        (smtplib.SMTPSenderRefused(550, b"relay denied", "gallra@localhost"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
        (smtplib.SMTPServerDisconnected("gone"), False),
    ],
)
def test_what_counts_as_refused_for_good_and_no_error_keeps_an_address(error, for_good):
    assert delivery._for_good(error) is for_good
    described = delivery._describe(error)
    assert "anna.berg" not in described and len(described) <= 300


def test_retries_wait_longer_each_time_up_to_two_hours(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with socket.socket() as s:  # a port nothing listens on: the relay is down
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", s.getsockname()[1]
    now = timezone.now()
    outbox.queue(HELLO, kind="contact", now=now)
    waits, at = [], now
    for _ in range(10):
        delivery.deliver(now=at)
        mail = Mail.objects.get()
        waits.append(int((mail.next_attempt - at).total_seconds() // 60))
        at = mail.next_attempt
    assert waits == [1, 2, 4, 8, 16, 32, 64, 120, 120, 120]
