"""Who answers for an area (P22): the staff in the Django group of the area's role, and how
mail reaches them (through the outbox, as mail to the public does)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import DatabaseError

from gallra.outbox import delivery
from gallra.outbox import mail as outbox
from gallra.policy.model import Policy

log = logging.getLogger(__name__)


def addresses_for(policy: Policy, area: str) -> list[str]:
    """E-mail addresses of the active staff holding the role `responsibilities[area]`, or,
    when the policy names none for the area, the accountable role."""
    role = policy.responsibilities.get(area, policy.organisation.accountable)
    users = get_user_model().objects.filter(is_active=True, groups__name=role).exclude(email="")
    return sorted({u.email for u in users})


def queue_staff_mail(subject: str, body: str, to: Iterable[str], *, kind: str, now: datetime):
    """Put a mail to staff in the outbox (in the caller's transaction, if any): a relay that
    is down leaves it waiting, tried again (docs/mail.md), instead of failing the sender."""
    return outbox.queue(outbox.Message(subject, body, tuple(to)), kind=kind, now=now)


def deliver_now() -> None:
    """Deliver what waits in the outbox now, for what runs outside a web request (a command,
    a daily job), as `gallra outbox send` would. Never raises: what is not delivered waits in
    the outbox for its deliverer. Call it outside any transaction."""
    try:
        outcome = delivery.deliver()
    except Exception as exc:  # noqa: BLE001 (the outbox's own deliverer tries again)
        log.warning("gallra: the outbox could not be delivered now: %s", type(exc).__name__)
        return
    if outcome.failed:
        log.warning(
            "gallra: mail waits in the outbox, the relay failed (%s); it is tried again",
            "; ".join(outcome.errors),  # no address: the outbox takes them out
        )


def mail_staff(subject: str, body: str, to: Iterable[str], *, kind: str, now: datetime) -> None:
    """Queue a mail to staff in the outbox and deliver it now if the relay takes it.

    Should the database itself be away (what an alert may be about), the mail is sent
    directly instead, at least: that may raise the relay's error.
    """
    to = list(to)
    try:
        queue_staff_mail(subject, body, to, kind=kind, now=now)
    except DatabaseError:
        send_mail(subject, body, None, to)
        return
    deliver_now()
