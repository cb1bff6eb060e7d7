"""What gallra reads of a message: a few header fields, turned into digests, a date and addresses.

Only the fields in FIELDS are fetched, and nothing read here is stored but the digests and the
date: the addresses serve to link the message to the registry and are then dropped.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime

from django.conf import settings

FIELDS = (
    "Message-ID",
    "Date",
    "From",
    "Sender",
    "Reply-To",
    "To",
    "Cc",
    "References",
    "In-Reply-To",
)
ADDRESS_FIELDS = ("From", "Sender", "Reply-To", "To", "Cc")
# Enough of RFC 5322's addr-spec to find the addresses in a header, even a malformed one.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
DIGEST_LENGTH = 24  # hex digits of HMAC-SHA256: 96 bits


@dataclass(frozen=True)
class Headers:
    ref: str  # "mail-" + keyed digest of the Message-ID (of the header fields when it has none)
    thread: str  # the same digest of the thread's first Message-ID
    written: datetime | None  # the Date header, when it can be read
    addresses: frozenset[str]  # lower case
    problem: str = ""  # why the message cannot be read; such a message is never deleted
    note: str = ""  # something read with a fallback (an unreadable Date header)


def digest(kind: str, value: bytes) -> str:
    """A keyed digest: the same message always gets the same ref, and no one can tell from the
    ref which message it is without gallra's pseudonym key."""
    mac = hmac.new(settings.GALLRA_KEYS.pseudonym_key, kind.encode() + b"\0" + value, "sha256")
    return "mail-" + mac.hexdigest()[:DIGEST_LENGTH]


def read(header: bytes) -> Headers:
    """The facts of one message from its header block (the fields in FIELDS, or all).

    Never raises: a header the parser cannot take makes an unreadable message, kept.
    """
    try:
        return _read(header)
    except Exception as exc:  # any input at all: it must not stop the scan
        ref = digest("header", header)
        problem = (
            f"its header cannot be parsed ({type(exc).__name__}): not a message gallra can read"
        )
        return Headers(ref, ref, None, frozenset(), problem)


def _read(header: bytes) -> Headers:
    message = BytesHeaderParser(policy=compat32).parsebytes(header)

    def field(name: str) -> str:
        values = message.get_all(name) or []
        return " ".join(str(v) for v in values).strip()

    message_id = _first_id(field("Message-ID")) or field("Message-ID")
    if message_id:
        ref = digest("message-id", message_id.encode("utf-8", "surrogateescape"))
    else:  # the same message keeps the same fields: its ref stays the same across scans
        fields = "\n".join(f"{n}: {field(n)}" for n in FIELDS)
        ref = digest("fields", fields.encode("utf-8", "surrogateescape"))
    root = _first_id(field("References")) or _first_id(field("In-Reply-To"))
    thread = digest("message-id", root.encode("utf-8", "surrogateescape")) if root else ref

    written, note = None, ""
    if field("Date"):
        try:
            written = parsedate_to_datetime(field("Date"))
        except (TypeError, ValueError, IndexError, OverflowError):
            note = "its Date header cannot be read; it counts from when it was received"
        else:
            if written.tzinfo is None:  # "-0000": the time is UTC, the zone unknown
                written = written.replace(tzinfo=UTC)
    addresses = frozenset(
        a.lower() for name in ADDRESS_FIELDS for a in _ADDRESS.findall(field(name))
    )
    problem = ""
    if not (message_id or field("Date") or field("From")):
        problem = "it has no Message-ID, Date or From header: not a message gallra can read"
    return Headers(ref, thread, written, addresses, problem, note)


def counted_date(written: datetime | None, received: datetime) -> tuple[datetime, str]:
    """The date the rule counts from, and which one it is.

    The Date header says when the message was written and survives a move to another server
    (which resets the received date); a Date header later than the message's arrival is wrong
    (a sender's clock), so the earlier of the two counts.
    """
    if written is not None and written <= received:
        return written, "header"
    return received, "received"


def _first_id(text: str) -> str:
    match = _MESSAGE_ID.search(text)
    return match.group(0) if match else ""


def readable_text(raw: bytes) -> tuple[str, str]:
    """(subject, the text a person reads: addresses, subject, plain and HTML parts), for
    searching a message for a subject's data; nothing of it is stored."""
    import email
    import email.policy

    message = email.message_from_bytes(raw, policy=email.policy.default)
    parts = [f"{name}: {message.get(name, '')}" for name in ("From", "To", "Cc", "Subject")]
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        try:
            content = part.get_content()
        except (LookupError, ValueError):
            content = part.get_payload(decode=True).decode("utf-8", "replace")
        if part.get_content_subtype() == "html":
            content = re.sub(r"<[^>]+>", " ", content)
        parts.append(content)
    return str(message.get("Subject", "")), "\n".join(parts)
