"""The daily mail about breaches still to be reported to IMY reaches the accountable role."""

from __future__ import annotations

import socket
from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gallra.incidents.models import Incident
from gallra.incidents.reminders import remind
from gallra.outbox.models import Mail
from gallra.policy.loading import current_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def ceo(staff_member):
    user = staff_member("vd", "ceo")
    user.email = "vd@redcloud.se"
    user.save()
    tech = staff_member("tekniker", "technician")
    tech.email = "tekniker@redcloud.se"
    tech.save()
    return user


def breach(hours_ago: float, **fields) -> Incident:
    return Incident.objects.create(
        title="Stulen bärbar dator med Karin Bergströms kundlista",
        known_at=timezone.now() - timedelta(hours=hours_ago),
        opened_by="tekniker",
        **fields,
    )


def test_the_accountable_role_is_mailed_every_breach_still_to_notify(ceo, smtp):
    late, soon = breach(80), breach(10)
    breach(5, imy_notified_at=timezone.now())  # notified: not named
    breach(5, risk="none", not_notified_reason="krypterad disk")  # assessed: no notification
    assert remind(current_policy(), timezone.now()) == 2
    [(to, subject, body)] = smtp.messages
    assert to == ["vd@redcloud.se"]  # the accountable role, not the technician
    assert "2 personuppgiftsincident(er)" in subject and "1 försenade" in subject
    assert late.ref in body and soon.ref in body
    assert "försenad" in body.split(late.ref)[1].splitlines()[0]
    assert f"/admin/incidents/incident/{late.pk}/change/" in body
    assert "Karin" not in subject + body  # refs and deadlines only, never the title


def test_nothing_to_notify_sends_nothing(ceo, smtp):
    breach(5, imy_notified_at=timezone.now())
    assert remind(current_policy(), timezone.now()) == 0
    assert smtp.messages == []


def test_the_command_mails_on_request_for_cron(ceo, smtp):
    breach(80)
    with pytest.raises(CommandError):
        call_command("incidents", "--mail", "--quiet")
    assert len(smtp.messages) == 1


def test_a_relay_that_is_down_delays_the_mail_and_fails_nothing(ceo, smtp, settings):
    late = breach(80)
    relay = settings.EMAIL_PORT
    with socket.socket() as s:  # a port nothing listens on: the relay is down
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = s.getsockname()[1]
    with pytest.raises(CommandError) as failed:  # exit 1 says a notification is late ...
        call_command("incidents", "--mail", "--quiet")
    assert failed.value.returncode == 1  # ... and no traceback of the relay's
    [waiting] = Mail.objects.all()
    assert waiting.kind == "incident_reminder"

    settings.EMAIL_PORT = relay
    later = timezone.now() + timedelta(minutes=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        call_command("outbox", "send", stdout=StringIO())
    [(to, subject, body)] = smtp.messages
    assert to == ["vd@redcloud.se"] and late.ref in body
    assert not Mail.objects.exists()
