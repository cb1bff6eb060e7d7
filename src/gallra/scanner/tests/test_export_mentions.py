"""The subject export finds a person's mails and the documents that mention them."""

from datetime import UTC, date, datetime

import pytest

from gallra.mailboxes.tests.conftest import maildir_mailbox, message, with_mailboxes
from gallra.registry.models import Customer, Person, TechnicalDocument
from gallra.subjects.export import as_html, as_json, gather
from gallra.subjects.identity import Identity

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 30, 10, tzinfo=UTC)


def test_mails_and_documents_that_name_the_subject_are_in_their_export(maildir):
    customer = Customer.objects.create(ref="C-1", name="Kund AB")
    Person.objects.create(
        ref="P-1",
        customer=customer,
        first_name="Anna",
        last_name="Berg",
        email="anna.berg@kund.example",
    )
    TechnicalDocument.objects.create(
        ref="D-1",
        customer=customer,
        title="Larmkedja",
        created=date(2026, 1, 1),
        content=customer.seal("Ring Anna Berg vid larm."),
    )
    maildir.add(message("m1@kund.example", AT, "anna.berg@kund.example", subject="Fråga"), AT)
    maildir.add(message("m2@annan.example", AT, "bo@annan.example", subject="Om Anna Berg"), AT)
    maildir.add(message("m3@annan.example", AT, "bo@annan.example", subject="Annat"), AT)
    policy = with_mailboxes(maildir_mailbox(maildir))
    who = Identity.of("anna.berg@kund.example", name="Anna Berg")

    items = gather(policy, who, AT.date())

    mails = sorted(
        (i.values["subject"], i.values["found_by"])
        for i in items
        if i.store == "mailbox salj-maildir"
    )
    assert mails == [("Fråga", ["email"]), ("Om Anna Berg", ["name"])]
    [document] = [i for i in items if i.table == "document_mention"]
    assert document.key == "D-1" and document.values["found_by"] == ["name"]
    data = as_json(policy, who, items, "SR-1", AT)
    assert "mailbox salj-maildir" in data["stores"]
    html = as_html(policy, who, items, "SR-1", AT, "sv", AT.date())
    assert "Om Anna Berg" in html and "Larmkedja" in html
