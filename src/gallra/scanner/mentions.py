"""Where a subject is mentioned in free text gallra holds: the technical documents (sealed,
opened with each customer's key). Used by the subject export (Art. 15): a person's data in a
document about their employer's network is theirs to know about."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gallra.registry import crypto
from gallra.registry.models import TechnicalDocument
from gallra.scanner.scan import EMAIL, NAME, PERSONNUMMER, SAMORDNINGSNUMMER, Scanner
from gallra.subjects.identity import Identity


@dataclass(frozen=True)
class Mention:
    document: TechnicalDocument
    kinds: tuple[str, ...]  # how the subject was found: "email", "name", "personnummer"


class SubjectFinder:
    """How one subject is named in a text: by e-mail address, name or personnummer."""

    def __init__(self, identity: Identity) -> None:
        self.scanner = Scanner([identity.name] if identity.name else [])
        self.emails = {e.casefold() for e in identity.values("email")}
        self.numbers = {_digits(n) for n in identity.values("personnummer")}

    def kinds(self, text: str) -> tuple[str, ...]:
        found = set()
        for finding in self.scanner.scan(text):
            if finding.kind == EMAIL and finding.text.casefold() in self.emails:
                found.add(EMAIL)
            elif finding.kind == NAME:
                found.add(NAME)
            elif finding.kind in (PERSONNUMMER, SAMORDNINGSNUMMER) and (
                _digits(finding.text) in self.numbers
            ):
                found.add(PERSONNUMMER)
        return tuple(sorted(found))


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)[-10:]


def documents_mentioning(identity: Identity) -> list[Mention]:
    finder = SubjectFinder(identity)
    found = []
    documents = TechnicalDocument.objects.select_related("customer").order_by("pk")
    for document in documents.iterator():
        try:
            text = document.customer.unseal(document.content).decode("utf-8", "replace")
        except crypto.KeyDestroyed:
            continue
        kinds = finder.kinds(text)
        if kinds:
            found.append(Mention(document, kinds))
    return found


def document_items(policy, identity: Identity) -> list:
    """The technical documents that mention the subject, as export items: which document,
    and how they were found in it (the document itself is the customer's)."""
    from gallra.subjects.registry_store import STORE, Item, field_categories

    category = field_categories(policy).get("document.content", "")
    return [
        Item(
            STORE,
            "document_mention",
            m.document.ref,
            {
                "title": m.document.title,
                "customer": m.document.customer.ref,
                "found_by": list(m.kinds),
            },
            {"title": category},
            m.document.created,
        )
        for m in documents_mentioning(identity)
    ]
