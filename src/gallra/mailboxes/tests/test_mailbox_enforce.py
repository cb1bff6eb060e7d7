"""`enforce` weeds the policy's mailboxes (P19, P21): exactly the due messages go, with evidence.

Each test runs against a Maildir and against a real Dovecot over IMAPS. The messages are 2, 3
and 4 months old, from or to a prospect in negotiation (held), a customer whose agreement is
held, a customer with an active agreement but no hold, a prospect whose hold has ended, and
an address gallra does not know.
"""

import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.forms.models import model_to_dict

from gallra.evidence.log import entry_as_dict, verify
from gallra.evidence.models import Entry
from gallra.mailboxes.messages import digest
from gallra.mailboxes.models import MailMessage
from gallra.mailboxes.tests.conftest import (
    maildir_mailbox,
    message,
    months_before,
    with_mailboxes,
)
from gallra.registry.models import Agreement, Customer, Hold, Person, Prospect
from gallra.retention.enforcement import enforce

AT = date(2026, 6, 15)
QUOTES = "Offertförfrågningar"  # a folder whose name IMAP and Maildir++ spell in UTF-7
PROVIDER = "info@redcloud.example"
SENDERS = {
    "neg": "offert@forhandling.example",  # prospect PR-NEG, negotiation hold to 2026-12-31
    "avtal": "Anna.Berg@Avtal.example",  # customer C-AVTAL, hold on its agreement
    "aktiv": "bo@aktiv.example",  # customer C-AKTIV: an active agreement, no hold
    "kall": "info@kall.example",  # prospect PR-KALL: its hold ended on 2026-06-01
    "okand": "someone@okand.example",  # not in the registry
}
GONE = {f"{p}-{m}m@test" for p in ("aktiv", "kall", "okand") for m in (3, 4)}


@pytest.fixture
def registry(db):
    Prospect.objects.create(
        ref="PR-NEG", name="Förhandling AB", email=SENDERS["neg"], created=AT - timedelta(days=10)
    )
    Prospect.objects.create(
        ref="PR-KALL", name="Kall AB", email=SENDERS["kall"], created=AT - timedelta(days=10)
    )
    for ref, party in (("AVTAL", "avtal"), ("AKTIV", "aktiv")):
        customer = Customer.objects.create(ref=f"C-{ref}", name=f"{ref.title()} AB")
        Agreement.objects.create(ref=f"A-{ref}", customer=customer, start=date(2024, 1, 1))
        Person.objects.create(
            ref=f"P-{ref}",
            customer=customer,
            first_name="Anna",
            last_name="Berg",
            email=SENDERS[party].lower(),
        )
    Hold.objects.create(
        ref="H-NEG",
        target_type="prospect",
        target_ref="PR-NEG",
        reason="negotiation",
        until=date(2026, 12, 31),
    )
    Hold.objects.create(
        ref="H-AVTAL", target_type="agreement", target_ref="A-AVTAL", reason="agreement"
    )
    Hold.objects.create(
        ref="H-KALL",
        target_type="prospect",
        target_ref="PR-KALL",
        reason="negotiation",
        until=date(2026, 6, 1),
    )


def fill(box) -> set[str]:
    """Fifteen messages in the inbox and two among the quotes; returns every Message-ID."""
    mids = set()
    for party, address in SENDERS.items():
        for months in (2, 3, 4):
            mid = f"{party}-{months}m@test"
            written = months_before(AT, months)
            if party == "avtal":  # written by the provider: linked through To, in any case
                content = message(mid, written, PROVIDER, to=address)
            else:
                content = message(mid, written, address)
            box.add(content, written)
            mids.add(mid)
    box.add(
        message("quote-old@test", months_before(AT, 4), SENDERS["okand"]),
        months_before(AT, 4),
        QUOTES,
    )
    box.add(
        message("quote-new@test", months_before(AT, 2), SENDERS["okand"]),
        months_before(AT, 2),
        QUOTES,
    )
    return mids


def ref_of(mid: str) -> str:
    return digest("message-id", f"<{mid}>".encode())


def test_exactly_the_due_messages_go_and_the_evidence_names_only_refs(box, registry):
    inbox = fill(box)
    policy = with_mailboxes(box.declare(["INBOX", QUOTES]))

    [run] = enforce(policy, AT)

    assert run.mail["problems"] == [] and run.mail["unreadable"] == []
    assert run.mail["deleted"] == len(GONE) + 1 == run.mail["due"]
    assert box.ids("INBOX") == inbox - GONE
    assert box.ids(QUOTES) == {"quote-new@test"}
    entries = Entry.objects.filter(action="delete", record_type="mail")
    assert sorted(r for e in entries for r in e.refs) == sorted(
        ref_of(m) for m in GONE | {"quote-old@test"}
    )
    assert {e.rule for e in entries} == {"correspondence-and-sales"}
    assert {c for e in entries for c in e.customers.split("|") if c} == {"C-AKTIV"}
    assert {e.data["folder"] for e in entries} == {"INBOX", QUOTES}
    # No address, subject or Message-ID in the evidence or in gallra's index.
    evidence = json.dumps([entry_as_dict(e) for e in Entry.objects.all()], ensure_ascii=False)
    index = json.dumps([model_to_dict(m) for m in MailMessage.objects.all()], default=str)
    for text in (evidence, index):
        assert "@" not in text and "Offertförfrågan" not in text and "Hej" not in text
    assert MailMessage.objects.count() == len(inbox) - len(GONE) + 1
    assert set(MailMessage.objects.values_list("ref", flat=True)) == {
        ref_of(m) for m in (inbox - GONE) | {"quote-new@test"}
    }
    linked = MailMessage.objects.get(ref=ref_of("avtal-2m@test"))
    assert (linked.customers, linked.prospects) == ("|C-AVTAL|", "")
    assert MailMessage.objects.get(ref=ref_of("neg-3m@test")).prospects == "|PR-NEG|"

    [again] = enforce(policy, AT)  # idempotent: nothing more is due
    assert again.mail["deleted"] == 0 and again.mail["messages"] == len(inbox) - len(GONE) + 1
    assert Entry.objects.filter(action="delete", record_type="mail").count() == entries.count()
    assert verify().ok


def test_the_plan_shows_the_mail_that_will_go_and_why_the_rest_stays(
    box, registry, tmp_path, monkeypatch
):
    fill(box)
    mailbox = box.declare(["INBOX", QUOTES]).model_dump(mode="json")
    from gallra.config import DEFAULT_POLICY

    toml = "\n[[mailbox]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in mailbox.items())
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(DEFAULT_POLICY.read_text(encoding="utf-8") + toml, encoding="utf-8")
    monkeypatch.setenv("GALLRA_POLICY", str(policy_file))

    call_command("mail", "scan", "--at", AT.isoformat())
    out = tmp_path / "plan.json"
    with open(out, "w") as f:
        call_command("plan", "--at", AT.isoformat(), "--format", "json", "--type", "mail", stdout=f)
    plan = {d["ref"]: d for d in json.loads(out.read_text())}
    assert {r for r, d in plan.items() if d["action"] == "delete"} == {
        ref_of(m) for m in GONE | {"quote-old@test"}
    }
    assert plan[ref_of("neg-4m@test")]["reason"] == "hold"
    assert plan[ref_of("neg-4m@test")]["details"]["hold"] == "H-NEG"
    assert plan[ref_of("avtal-3m@test")]["details"]["hold"] == "H-AVTAL"
    assert plan[ref_of("okand-2m@test")] | {"details": None} == {
        "type": "mail",
        "ref": ref_of("okand-2m@test"),
        "rule": "correspondence-and-sales",
        "due": "2026-07-15",
        "action": "keep",
        "reason": "not_yet",
        "details": None,
    }

    text = tmp_path / "plan.txt"
    with open(text, "w") as f:
        call_command("plan", "--at", "2026-07-15", "--lang", "en", "--all", stdout=f)
    lines = text.read_text()
    assert f"delete   mail message {ref_of('okand-2m@test')} (correspondence-and-sales" in lines
    assert f"keep     mail message {ref_of('neg-2m@test')}: held by H-NEG" in lines


def test_a_thread_stays_while_it_is_active_and_goes_three_months_after_its_last_message(box, db):
    old, reply = months_before(AT, 5), months_before(AT, 1)
    box.add(message("start@test", old, SENDERS["okand"]), old)
    box.add(
        message("svar@test", reply, PROVIDER, to=SENDERS["okand"], references="<start@test>"),
        reply,
        "Skickat",
    )
    quiet, quiet_reply = months_before(AT, 6), months_before(AT, 4)
    box.add(message("tyst@test", quiet, SENDERS["okand"]), quiet)
    box.add(
        message(
            "tyst-svar@test", quiet_reply, PROVIDER, to=SENDERS["okand"], references="<tyst@test>"
        ),
        quiet_reply,
        "Skickat",
    )
    policy = with_mailboxes(box.declare(["INBOX", "Skickat"]))

    [run] = enforce(policy, AT)

    assert run.mail["deleted"] == 2
    assert box.ids("INBOX") == {"start@test"}  # its thread's last message is a month old
    assert box.ids("Skickat") == {"svar@test"}
    [later] = enforce(policy, date(2026, 8, 15))  # three months after the reply
    assert later.mail["deleted"] == 2 and box.ids("INBOX") == box.ids("Skickat") == set()


def test_the_date_that_counts(maildir, db):
    """The Date header, unless it is later than the arrival (a wrong clock) or unreadable."""
    arrived = months_before(AT, 4)
    maildir.add(
        message("flyttad@test", months_before(AT, 4), SENDERS["okand"]), months_before(AT, 1)
    )  # moved to a new server a month ago: its Date counts
    maildir.add(message("framtid@test", months_before(AT, -6), SENDERS["okand"]), arrived)
    maildir.add(message("utan-datum@test", None, SENDERS["okand"]), arrived)
    maildir.add(
        message("trasig@test", None, SENDERS["okand"], extra="Date: igår vid lunch"), arrived
    )
    maildir.add(message("ny@test", months_before(AT, 2), SENDERS["okand"]), months_before(AT, 2))
    policy = with_mailboxes(maildir_mailbox(maildir))

    [run] = enforce(policy, AT)

    assert maildir.message_ids() == {"ny@test"}
    assert run.mail["deleted"] == 4
    [note] = run.mail["notes"]
    assert note.startswith("mailbox 'salj-maildir', folder 'INBOX', file ")
    assert note.endswith("its Date header cannot be read; it counts from when it was received")
