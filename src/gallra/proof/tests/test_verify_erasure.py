"""`gallra verify-erasure`: every place a customer's data can be, backups included."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from gallra.backups.runs import run_backup
from gallra.evidence.models import Entry
from gallra.proof.search import Identifiers, Search
from gallra.registry.models import Account, Agreement, Customer, Invoice, Person, TechnicalDocument

pytestmark = pytest.mark.django_db(transaction=True)  # the online backup needs no open transaction
T0 = datetime(2026, 11, 20, 2, tzinfo=UTC)
PNR = "19811218-9876"  # a valid check digit, made up


def erik() -> Identifiers:
    return Identifiers(
        names=["Erik Raderad", "Raderad Bygg AB"],
        emails=["erik.raderad@kund.example"],
        phones=["+46 70-123 45 67"],
        personnummer=[PNR],
        usernames=["erikr"],
        org_numbers=["556677-8899"],
    )


@pytest.fixture
def customer(homes):
    c = Customer.objects.create(ref="C-1", name="Raderad Bygg AB", org_number="556677-8899")
    Agreement.objects.create(ref="AG-1", customer=c, start=date(2020, 1, 1), end=date(2025, 6, 30))
    person = Person.objects.create(
        ref="P-1",
        customer=c,
        first_name="Erik",
        last_name="Raderad",
        email="erik.raderad@kund.example",
        mobile="070-123 45 67",
    )
    Account.objects.create(ref="A-1", person=person, username="erikr", opened=date(2020, 1, 1))
    TechnicalDocument.objects.create(
        ref="D-1",
        customer=c,
        title="Brandvägg",
        created=date(2021, 1, 1),
        content=c.seal(f"kontakt: Erik, pnr {PNR.replace('-', '')}"),
    )
    Invoice.objects.create(
        ref="F-1",
        customer=c,
        customer_ref="C-1",
        number="1001",
        issued=date(2025, 3, 1),
        fiscal_year_end=date(2025, 12, 31),
        amount=Decimal("1250.00"),
        buyer_name="Raderad Bygg AB",
    )
    (homes / "anna" / "notes.txt").write_text("rad ett\nring Erik på 0046 70 123 45 67\n")
    return c


def verify_erasure(*args) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("verify_erasure", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def test_the_identifiers_are_found_in_every_form_and_place(repository, policy, customer):
    run_backup(policy, now=T0, at=T0)
    hits = Search(policy, erik()).everywhere()
    places = {(h.place.split(" (")[0][:8], h.where.split(" ")[0], h.kind) for h in hits}
    for place in ("database", "snapshot"):
        found = {(w, k) for p, w, k in places if p.startswith(place)}
        assert ("registry_person", "name") in found
        assert ("registry_person", "e-mail") in found
        assert ("registry_person", "phone") in found  # "070-123 45 67" for "+46 70-123 45 67"
        assert ("registry_account", "username") in found
        assert ("registry_customer", "organisation number") in found
        assert ("registry_technicaldocument", "personnummer") in found  # sealed, opened
    snapshot_home = [h for h in hits if h.place.startswith("snapshot") and "notes.txt" in h.where]
    assert [h.kind for h in snapshot_home] == ["phone"]
    home = [h for h in hits if h.place == "directory"]
    assert [(h.where.split("/")[-1], h.kind) for h in home] == [("notes.txt line 2", "phone")]
    person = next(
        h for h in hits if h.place == "database" and h.where.startswith("registry_person")
    )
    assert "ref=P-1" in person.where and "customer-data-after-relationship" in person.rule
    invoice = next(h for h in hits if h.where.startswith("registry_invoice"))
    assert invoice.kept and "Bokföringslagen" in invoice.rule


def test_nothing_remains_once_deleted_and_past_the_backup_window(
    repository, policy, customer, homes
):
    run_backup(policy, now=T0, at=T0)
    code, out = verify_erasure("C-1")
    assert code == 1 and "FOUND database: registry_person id=" in out

    from gallra.retention.enforcement import enforce

    enforce(policy, at=T0.date(), now=lambda: T0)  # the agreement ended 2025-06-30: a year on
    (homes / "anna" / "notes.txt").unlink()
    assert not Customer.objects.exists()
    wanted = [
        "--name",
        "Erik Raderad",
        "--email",
        "erik.raderad@kund.example",
        "--phone",
        "070-1234567",
        "--personnummer",
        PNR,
        "--username",
        "erikr",
        "--org-number",
        "5566778899",
        "--name",
        "Raderad Bygg AB",
    ]
    code, out = verify_erasure(*wanted)
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("FOUND")]
    assert lines and all(line.startswith("FOUND snapshot ") for line in lines)  # only there
    assert "leaves the repository 2026-11-27 (P7D window)" in lines[0]
    # The document went with its key: even the snapshot's copy of it is no hit.
    assert not any("registry_technicaldocument" in line for line in lines)

    later = T0 + timedelta(days=8)
    run_backup(policy, now=later, at=later)
    code, out = verify_erasure(*wanted)
    assert code == 0, out
    assert "kept  database: registry_invoice" in out and "nothing found (2 kept by law)" in out
    entry = Entry.objects.filter(action="erasure_verified").get()
    assert entry.data == {"kept": 2} and entry.count == 0


def test_nothing_to_look_for_is_a_usage_error():
    assert verify_erasure("C-404")[0] == 2
    assert verify_erasure()[0] == 2


def test_the_mailboxes_are_searched_message_by_message(maildir, policy):
    from gallra.mailboxes.tests.conftest import maildir_mailbox, message

    sent = datetime(2026, 11, 2, 9, tzinfo=UTC)
    maildir.add(message("x1@kund.example", sent, "erik.raderad@kund.example"), sent)
    with_mail = policy.model_copy(update={"mailbox": [maildir_mailbox(maildir)]})
    hits = Search(with_mail, erik()).everywhere(backups=False)
    [hit] = [h for h in hits if h.place.startswith("mailbox")]
    assert hit.place == "mailbox salj-maildir" and hit.where.startswith("INBOX message ")
    assert hit.kind == "e-mail" and "correspondence-and-sales" in hit.rule
    for file in (maildir.root / "cur").iterdir():
        file.unlink()
    assert not [
        h
        for h in Search(with_mail, erik()).everywhere(backups=False)
        if h.place.startswith("mailbox")
    ]
