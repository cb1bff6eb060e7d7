"""A subject's messages in the policy's mailboxes, for the data export (Art. 15): every
message that names them in its addresses or its text. Read from the mailbox each time;
gallra stores none of it."""

from __future__ import annotations

from gallra.mailboxes.connectors import connect
from gallra.mailboxes.messages import readable_text
from gallra.policy.model import Policy
from gallra.scanner.mentions import _digits
from gallra.scanner.scan import EMAIL, NAME, PERSONNUMMER, SAMORDNINGSNUMMER, Scanner
from gallra.subjects.identity import Identity
from gallra.subjects.registry_store import Item


def mail_items(policy: Policy, identity: Identity) -> list[Item]:
    scanner = Scanner([identity.name] if identity.name else [])
    emails = {e.casefold() for e in identity.values("email")}
    numbers = {_digits(n) for n in identity.values("personnummer")}
    out = []
    for mailbox in policy.mailbox:
        with connect(mailbox) as connector:
            for folder in mailbox.folders:
                connector.select(folder)
                for uid, raw in connector.whole_messages():
                    subject, text = readable_text(raw)
                    kinds = set()
                    for f in scanner.scan(text):
                        if f.kind == EMAIL and f.text.casefold() in emails:
                            kinds.add(EMAIL)
                        elif f.kind == NAME:
                            kinds.add(NAME)
                        elif f.kind in (PERSONNUMMER, SAMORDNINGSNUMMER) and (
                            _digits(f.text) in numbers
                        ):
                            kinds.add(PERSONNUMMER)
                    if kinds:
                        values = {"subject": subject, "found_by": sorted(kinds)}
                        out.append(Item(f"mailbox {mailbox.id}", folder, uid, values,
                                        {"subject": mailbox.category}))  # fmt: skip
    return out
