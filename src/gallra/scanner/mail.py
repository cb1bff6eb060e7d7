"""A subject's messages in the policy's mailboxes, for the data export (Art. 15): every
message that names them in its addresses or its text. Read from the mailbox each time;
gallra stores none of it."""

from __future__ import annotations

from gallra.mailboxes.connectors import connect
from gallra.mailboxes.messages import readable_text
from gallra.policy.model import Policy
from gallra.scanner.mentions import SubjectFinder
from gallra.subjects.identity import Identity
from gallra.subjects.registry_store import Item


def mail_items(policy: Policy, identity: Identity) -> list[Item]:
    finder = SubjectFinder(identity)
    out = []
    for mailbox in policy.mailbox:
        with connect(mailbox) as connector:
            for folder in mailbox.folders:
                connector.select(folder)
                for uid, raw in connector.whole_messages():
                    subject, text = readable_text(raw)
                    kinds = finder.kinds(text)
                    if kinds:
                        values = {"subject": subject, "found_by": list(kinds)}
                        out.append(
                            Item(
                                f"mailbox {mailbox.id}",
                                folder,
                                uid,
                                values,
                                {"subject": mailbox.category},
                            )
                        )
    return out
