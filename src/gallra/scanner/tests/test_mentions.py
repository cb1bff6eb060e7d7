"""A subject's export lists the technical documents that mention them."""

from datetime import date

import pytest

from gallra.registry.models import Customer, TechnicalDocument
from gallra.scanner.mentions import documents_mentioning
from gallra.subjects.identity import Identity

pytestmark = pytest.mark.django_db


def document(customer: Customer, ref: str, text: str) -> None:
    made = date(2026, 1, 1)
    TechnicalDocument.objects.create(
        ref=ref, customer=customer, title=ref, created=made, content=customer.seal(text)
    )


def test_documents_that_name_the_subject_in_any_way_are_found():
    employer, other = (
        Customer.objects.create(ref="C-1", name="A AB"),
        Customer.objects.create(ref="C-2", name="B AB"),
    )
    document(employer, "D-NAME", "Kontaktperson: Anna Berg, växeln.")
    document(employer, "D-MAIL", "Larm skickas till ANNA.BERG@kund.example")
    document(other, "D-PNR", "Testkonto skapat med pnr 121212-1212 av misstag")
    document(other, "D-NONE", "Anna Bergström och anna@annan.example, 19121212-1213")
    who = Identity.of("anna.berg@kund.example", name="Anna Berg", personnummer="19121212-1212")
    found = {m.document.ref: m.kinds for m in documents_mentioning(who)}
    assert found == {"D-NAME": ("name",), "D-MAIL": ("email",), "D-PNR": ("personnummer",)}
