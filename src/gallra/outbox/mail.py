"""Putting mail in the outbox, and the kinds of mail the apps above register.

`queue(Message(...), kind=..., now=...)` keeps a finished mail; `queue_later(kind, data)`
keeps only what the kind's composer needs, and the composer writes the mail at delivery,
outside any web request: the privacy centre uses it so that looking up whether an address
is on record, and everything that follows from it, happens after the answer.

A kind is registered by the app that owns it (the outbox imports nothing above it):

    outbox.register("subject_link", compose=compose_link, delivered=link_delivered)

`compose(data, now) -> Message | None` (None: nothing to send) runs in the transaction
that stores what it made; `delivered(ref, now)` runs in the one that deletes the sent mail.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.mail import make_msgid
from django.db import transaction

from gallra.outbox import sealing
from gallra.outbox.models import Mail


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    to: tuple[str, ...]
    reply_to: tuple[str, ...] = ()

    def content(self) -> dict:
        check_headers(self)
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        return {
            "subject": self.subject,
            "body": self.body,
            "to": list(self.to),
            "reply_to": list(self.reply_to),
            "message_id": make_msgid(domain=domain),
        }


@dataclass(frozen=True)
class Kind:
    compose: Callable[[dict, datetime], Message | None] | None = None
    delivered: Callable[[str, datetime], None] | None = None


KINDS: dict[str, Kind] = {}


def register(
    kind: str,
    *,
    compose: Callable[[dict, datetime], Message | None] | None = None,
    delivered: Callable[[str, datetime], None] | None = None,
) -> None:
    KINDS[kind] = Kind(compose, delivered)


class BadHeader(ValueError):
    """A subject or address with a line break or another control character in it."""


def check_headers(message: Message) -> None:
    """Nothing reaches a header unchecked: the forms refuse such input, and this refuses it
    again, before it is queued (where it would fail at every attempt)."""
    if not message.to:
        raise BadHeader("a mail needs a recipient")
    for name, value in (
        ("subject", message.subject),
        *(("to", a) for a in message.to),
        *(("reply_to", a) for a in message.reply_to),
    ):
        if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):
            raise BadHeader(f"{name}: a line break or control character in a mail header")


def queue(message: Message, *, kind: str, now: datetime, ref: str = "") -> Mail:
    """Keep `message` for delivery after the answer."""
    return _store(kind, ref, message.content(), composed=True, now=now)


def queue_later(kind: str, data: dict, *, now: datetime, ref: str = "") -> Mail:
    """Keep `data` for the kind's composer, which writes the mail (or none) at delivery."""
    if kind not in KINDS or KINDS[kind].compose is None:
        raise LookupError(f"no composer is registered for {kind!r} mail")
    return _store(kind, ref, data, composed=False, now=now)


def _store(kind: str, ref: str, content: dict, *, composed: bool, now: datetime) -> Mail:
    key_id, sealed = sealing.seal(content, kind)
    with transaction.atomic():
        return Mail.objects.create(
            kind=kind,
            ref=ref,
            sealed=sealed,
            key_id=key_id,
            composed=composed,
            queued=now,
            next_attempt=now,
        )
