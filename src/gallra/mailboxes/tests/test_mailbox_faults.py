"""Bad input gives a clear error naming the mailbox or the message, and loses nothing.

An unreachable server, a wrong password, a certificate from another CA, a missing password
file, Maildir or folder: nothing is deleted in that mailbox, the others are still done, and
`gallra enforce` and `gallra mail enforce` exit with 1. A message gallra cannot read is never
deleted, and is named (mailbox, folder, UID or file) in the output and the plan.
"""

import io
import json
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.config import DEFAULT_POLICY
from gallra.evidence.models import Entry
from gallra.mailboxes.enforcement import enforce_mail
from gallra.mailboxes.models import MailMessage
from gallra.mailboxes.tests.conftest import (
    free_port,
    imap_mailbox,
    maildir_mailbox,
    make_tls,
    message,
    months_before,
    with_mailboxes,
)
from gallra.retention.enforcement import enforce

AT = date(2026, 6, 15)
OLD = months_before(AT, 4)


def old_message(mid: str = "old@test") -> bytes:
    return message(mid, OLD, "someone@okand.example")


def write_policy(tmp_path, monkeypatch, *mailboxes) -> None:
    """A policy file with these mailboxes, used by the commands (GALLRA_POLICY)."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    for mailbox in mailboxes:
        keys = mailbox.model_dump(mode="json")
        text += "\n[[mailbox]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in keys.items())
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("GALLRA_POLICY", str(path))


@pytest.mark.parametrize(
    "fault, says",
    [
        ("unreachable", r"mailbox 'salj-imap' \(127.0.0.1:\d+\): cannot connect: .*refused"),
        (
            "wrong password",
            r"mailbox 'salj-imap' \(127.0.0.1:\d+\): the server refused the login "
            r"of user 'salj' \(password_file .*/wrong\): .*AUTHENTICATIONFAILED",
        ),
        (
            "another CA",
            r"mailbox 'salj-imap' \(127.0.0.1:\d+\): the server's certificate is not "
            r"trusted \(certificate signature failure; ca_file .*/other/ca.pem\)",
        ),
        (
            "no password file",
            r"mailbox 'salj-imap' \(127.0.0.1:\d+\): cannot read password_file: "
            r".*No such file",
        ),
        (
            "no such folder",
            r"mailbox 'salj-imap' \(127.0.0.1:\d+\), folder 'Arkiv': cannot open "
            r"the folder: .*",
        ),
    ],
)
def test_an_imap_mailbox_that_fails_deletes_nothing_and_says_why(
    fault, says, dovecot, maildir, db, tmp_path
):
    dovecot.append(old_message(), OLD)
    keys = {}
    if fault == "unreachable":
        keys["port"] = free_port()
    elif fault == "wrong password":
        (tmp_path / "wrong").write_text("gissat\n")
        keys["password_file"] = str(tmp_path / "wrong")
    elif fault == "another CA":
        keys["ca_file"] = str(make_tls(tmp_path / "other")[0])
    elif fault == "no password file":
        keys["password_file"] = str(tmp_path / "missing")
    else:
        keys["folders"] = ["INBOX", "Arkiv"]  # INBOX is read first, then Arkiv fails
    broken = imap_mailbox(dovecot, **keys)
    maildir.add(old_message("maildir@test"), OLD)
    policy = with_mailboxes(broken, maildir_mailbox(maildir))

    [run] = enforce(policy, AT)

    [problem] = run.mail["problems"]
    assert re.match(says, problem), problem
    assert set(dovecot.messages()) == {"old@test"}  # nothing lost
    assert maildir.message_ids() == set()  # the other mailbox was still done
    assert run.mail["deleted"] == 1


def test_the_commands_exit_with_1_when_a_mailbox_fails(maildir, db, tmp_path, monkeypatch):
    maildir.add(old_message(), OLD)
    missing = maildir_mailbox(maildir).model_copy(
        update={"id": "arkiv", "path": str(tmp_path / "not-mounted")}
    )
    write_policy(tmp_path, monkeypatch, missing, maildir_mailbox(maildir))
    err = io.StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("mail", "enforce", "--at", AT.isoformat(), stdout=io.StringIO(), stderr=err)

    assert failed.value.returncode == 1
    assert f"mailbox 'arkiv': {tmp_path}/not-mounted is not a Maildir" in err.getvalue()
    assert maildir.message_ids() == set()
    with pytest.raises(CommandError) as failed:
        call_command("enforce", "--arm", "--at", AT.isoformat(), stdout=io.StringIO())
    assert failed.value.returncode == 1 and "not-mounted is not a Maildir" in str(failed.value)
    with pytest.raises(CommandError) as failed:
        call_command("mail", "scan", "--mailbox", "nej", "--lang", "en")
    assert failed.value.returncode == 2 and "no such mailbox" in str(failed.value)


def test_a_message_gallra_cannot_read_is_named_and_never_deleted(box, db, tmp_path, monkeypatch):
    garbage = b"\x00\xff\xfe this is no mail \x01\x02\r\nbinary junk without headers\r\n"
    box.add(garbage, OLD)
    box.add(old_message("readable@test"), OLD)
    write_policy(tmp_path, monkeypatch, box.declare())
    out, err = io.StringIO(), io.StringIO()

    call_command("mail", "enforce", "--at", AT.isoformat(), "--lang", "en", stdout=out, stderr=err)

    assert box.ids() == {""}  # the readable one went; the other (no Message-ID) stays
    assert MailMessage.objects.get().unreadable
    where = MailMessage.objects.get().where
    [warning] = err.getvalue().splitlines()
    assert warning == (
        f"warning: {where}: it has no Message-ID, Date or From header: not a message gallra "
        "can read; kept until someone checks it"
    )
    assert where.startswith(f"mailbox '{box.declare().id}', folder 'INBOX', ")
    assert "Mail for 2026-06-15: 1 message deleted." in out.getvalue()
    plan = io.StringIO()
    call_command("plan", "--at", "2027-01-01", "--format", "json", "--type", "mail", stdout=plan)
    [kept] = json.loads(plan.getvalue())
    assert (kept["action"], kept["reason"]) == ("keep", "unreadable")
    assert Entry.objects.filter(action="delete", record_type="mail").get().count == 1
    again = enforce_mail(with_mailboxes(box.declare()), date(2030, 1, 1))
    assert again.deleted == {} and len(again.unreadable) == 1
