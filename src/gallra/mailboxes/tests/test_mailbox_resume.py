"""A run that stops halfway is finished by the next, which deletes nothing that is not due.

The IMAP connection is dropped from the server's side (`doveadm kick`) after the first batch,
and between flagging messages \\Deleted and expunging them; a Maildir run is killed after
unlinking, before recording. Meanwhile a hold arrives for a message the first run had already
chosen: the next run spares it (and takes its \\Deleted flag back off).
"""

from datetime import date, timedelta

import pytest

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.mailboxes import enforcement
from gallra.mailboxes.connectors import Imap
from gallra.mailboxes.enforcement import enforce_mail
from gallra.mailboxes.messages import digest
from gallra.mailboxes.models import MailMessage
from gallra.mailboxes.tests.conftest import (
    imap_mailbox,
    maildir_mailbox,
    message,
    months_before,
    with_mailboxes,
)
from gallra.registry.models import Hold, Prospect

AT = date(2026, 6, 15)
DUE = [f"due-{i:02}@test" for i in range(12)]  # oldest first: the order they are deleted in
KEPT = [f"new-{i}@test" for i in range(3)]
LATE = DUE[6]  # in the second batch: held after the first run chose it


def ref_of(mid: str) -> str:
    return digest("message-id", f"<{mid}>".encode())


def fill(add) -> None:
    for i, mid in enumerate(DUE):
        written = months_before(AT, 4) - timedelta(days=len(DUE) - i)
        sender = "late@prospekt.example" if mid == LATE else f"someone{i}@okand.example"
        add(message(mid, written, sender), written)
    for mid in KEPT:
        add(message(mid, months_before(AT, 2), "someone@okand.example"), months_before(AT, 2))


def hold_late_arrival() -> None:
    Prospect.objects.create(ref="PR-LATE", name="Sen AB", email="late@prospekt.example", created=AT)
    Hold.objects.create(
        ref="H-LATE", target_type="prospect", target_ref="PR-LATE", reason="negotiation"
    )


def deleted_refs() -> list[str]:
    return sorted(
        r for e in Entry.objects.filter(action="delete", record_type="mail") for r in e.refs
    )


def test_a_connection_dropped_after_the_first_batch_is_resumed(dovecot, db):
    fill(dovecot.append)
    policy = with_mailboxes(imap_mailbox(dovecot))
    kicked = []

    def drop_after_first_batch(done, total):
        if not kicked:
            kicked.append(done)
            dovecot.kick()

    first = enforce_mail(policy, AT, batch=5, progress=drop_after_first_batch)

    [problem] = first.problems
    assert problem.startswith("mailbox 'salj-imap' (127.0.0.1:")
    assert "folder 'INBOX': the connection was lost" in problem and "run again" in problem
    assert sum(first.deleted.values()) == 5 == kicked[0]
    assert set(dovecot.messages()) == set(DUE[5:] + KEPT)
    assert MailMessage.objects.filter(marked__isnull=False).count() == 5  # the second batch

    hold_late_arrival()
    second = enforce_mail(policy, AT, batch=5)

    assert second.problems == []
    assert set(dovecot.messages()) == {LATE, *KEPT}
    assert sum(second.deleted.values()) == len(DUE) - 5 - 1 and second.unmarked == 1
    assert deleted_refs() == sorted(ref_of(m) for m in DUE if m != LATE)  # each once
    [skipped] = Entry.objects.filter(action="delete_skipped", record_type="mail")
    assert skipped.refs == [ref_of(LATE)]
    assert not MailMessage.objects.filter(marked__isnull=False).exists()
    assert enforce_mail(policy, AT).deleted == {}  # and again: nothing
    assert verify().ok


def test_a_connection_dropped_between_flagging_and_expunging_is_resumed(dovecot, db, monkeypatch):
    fill(dovecot.append)
    policy = with_mailboxes(imap_mailbox(dovecot))
    expunge = Imap._expunge

    def drop_first(self, numbers):
        monkeypatch.setattr(Imap, "_expunge", expunge)
        dovecot.kick()
        expunge(self, numbers)

    monkeypatch.setattr(Imap, "_expunge", drop_first)
    first = enforce_mail(policy, AT, batch=20)

    assert "the connection was lost" in first.problems[0]
    flagged = {m for m, flags in dovecot.messages().items() if "\\Deleted" in flags}
    assert flagged == set(DUE)  # flagged, not expunged: every message is still there
    assert deleted_refs() == []

    hold_late_arrival()
    second = enforce_mail(policy, AT, batch=20)

    assert second.problems == [] and second.unmarked == 1
    assert dovecot.messages() == {LATE: set(), **{m: set() for m in KEPT}}
    assert deleted_refs() == sorted(ref_of(m) for m in DUE if m != LATE)
    assert verify().ok


class Killed(Exception):
    pass


def test_a_maildir_run_killed_before_recording_is_recorded_by_the_next(maildir, db, monkeypatch):
    fill(maildir.add)
    policy = with_mailboxes(maildir_mailbox(maildir))
    record = enforcement._MailboxRun._record

    def killed_after_unlinking(self, rows, resumed):
        if not resumed and rows[0].ref == ref_of(DUE[5]):  # the second batch
            raise Killed
        return record(self, rows, resumed)

    monkeypatch.setattr(enforcement._MailboxRun, "_record", killed_after_unlinking)
    with pytest.raises(Killed):
        enforce_mail(policy, AT, batch=5)
    assert maildir.message_ids() == set(DUE[10:] + KEPT)  # the second batch's files are gone
    assert len(deleted_refs()) == 5

    second = enforce_mail(policy, AT, batch=5)

    assert second.resumed == 5 and sum(second.deleted.values()) == 7
    assert maildir.message_ids() == set(KEPT)
    assert deleted_refs() == sorted(ref_of(m) for m in DUE)  # each once
    resumed = Entry.objects.get(action="delete", record_type="mail", data__resumed=True)
    assert sorted(resumed.refs) == sorted(ref_of(m) for m in DUE[5:10])
    assert verify().ok


def test_a_folder_recreated_during_a_run_loses_nothing(dovecot, db, monkeypatch):
    """New UIDVALIDITY, and the old UIDs now name other messages: nothing is deleted by them."""
    fill(lambda content, received: dovecot.append(content, received, "Offerter"))
    policy = with_mailboxes(imap_mailbox(dovecot, folders=["Offerter"]))
    resume = enforcement._MailboxRun.resume

    def recreated_after_the_scan(self):
        resume(self)
        imap = dovecot.client()
        imap.rename('"Offerter"', '"Gammalt"')
        imap.logout()
        for i, mid in enumerate(reversed(KEPT + DUE)):  # UID 1 is now the newest message
            written = months_before(AT, 2 if mid in KEPT else 4) - timedelta(days=i)
            dovecot.append(message(mid, written, "someone@okand.example"), written, "Offerter")

    monkeypatch.setattr(enforcement._MailboxRun, "resume", recreated_after_the_scan)
    first = enforce_mail(policy, AT)
    monkeypatch.undo()

    [problem] = first.problems
    assert "folder 'Offerter': UIDVALIDITY changed since the scan; nothing deleted" in problem
    assert set(dovecot.messages("Offerter")) == set(DUE + KEPT) == set(dovecot.messages("Gammalt"))

    second = enforce_mail(policy, AT)

    assert second.problems == [] and sum(second.deleted.values()) == len(DUE)
    assert set(dovecot.messages("Offerter")) == set(KEPT)
    assert set(dovecot.messages("Gammalt")) == set(DUE + KEPT)  # not a folder of the policy
    assert deleted_refs() == sorted(ref_of(m) for m in DUE)
