"""`[[mailbox]]` in the policy file: what `gallra policy check` accepts, and where it says no."""

import io
import json

import pytest
from django.core.management import call_command

from gallra.config import DEFAULT_POLICY
from gallra.policy.loading import PolicyError, load_policy, registry_fields

SHIPPED = DEFAULT_POLICY.read_text(encoding="utf-8")
MAILDIR = """
[[mailbox]]
id = "info"
kind = "maildir"
category = "correspondence"
country = "SE"
path = "/var/mail/redcloud/info/Maildir"
folders = ["INBOX", "Skickat", "Offertförfrågningar"]
"""
IMAP = """
[[mailbox]]
id = "salj"
kind = "imap"
category = "correspondence"
country = "SE"
host = "mail.redcloud.example"
user = "salj@redcloud.example"
password_file = "/etc/gallra/imap-salj.password"
ca_file = "/etc/gallra/redcloud-ca.pem"
"""


def check(text: str, tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path, registry_fields())


def problems(text: str, tmp_path) -> list[str]:
    with pytest.raises(PolicyError) as failed:
        check(text, tmp_path)
    return [str(p).split(":", 1)[1] for p in failed.value.problems]  # "LINE: key: message"


def line_of(text: str, needle: str) -> int:
    [number] = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    return number


def test_a_maildir_and_an_imap_mailbox(tmp_path):
    policy = check(SHIPPED + MAILDIR + IMAP, tmp_path)
    maildir, imap = policy.mailbox
    assert (maildir.kind, maildir.folders[2], maildir.port) == (
        "maildir",
        "Offertförfrågningar",
        993,
    )
    assert (imap.host, imap.port, imap.folders) == ("mail.redcloud.example", 993, ["INBOX"])
    out = io.StringIO()
    call_command("policy", "show", str(tmp_path / "policy.toml"), "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["mailbox"][1]["password_file"].endswith(".password")


HEADER = 1  # the line is the header of the second [[mailbox]]


@pytest.mark.parametrize(
    "old, new, where, says",
    [
        (
            'password_file = "/etc/gallra/imap-salj.password"\n',
            "",
            HEADER,
            'mailbox[1]: an "imap" mailbox needs `password_file`',
        ),
        (
            'path = "/var/mail/redcloud/info/Maildir"',
            'path = "Maildir"',
            0,
            "mailbox[0]: path: 'Maildir' is not an absolute path",
        ),
        (
            'host = "mail',
            'path = "/srv/mail"\nhost = "mail',
            HEADER,
            'mailbox[1]: `path` belongs to kind = "maildir"',
        ),
        (
            'kind = "imap"',
            'kind = "pop3"',
            'kind = "pop3"',
            "mailbox[1].kind: must be 'maildir' or 'imap'",
        ),
        ("ca_file", "cafile", "cafile", "mailbox[1].cafile: unknown key"),
        (
            'category = "correspondence"\ncountry = "SE"\nhost',
            'category = "mail"\ncountry = "SE"\nhost',
            'category = "mail"',
            "mailbox[1].category: names category 'mail', which the policy does not define",
        ),
        (
            'category = "correspondence"\ncountry = "SE"\nhost',
            'category = "requests"\ncountry = "SE"\nhost',
            'category = "requests"',
            "mailbox[1].category: rule 'customer-data-after-relationship' counts from "
            '\'agreement_ended\'; a message counts from "created" (its date) or "last_activity" '
            "(the last message of its thread)",
        ),
        (
            'country = "SE"\nhost',
            'country = "NO"\nhost',
            'country = "NO"',
            "mailbox[1].country: NO is outside the allowed countries (SE)",
        ),
        (
            'id = "salj"',
            'id = "info" # twice',
            'id = "info" # twice',
            "mailbox[1].id: duplicate id 'info'",
        ),
        (
            '"INBOX", "Skickat"',
            '"INBOX", "INBOX"',
            '"INBOX", "INBOX"',
            "mailbox[0].folders: a folder is named twice",
        ),
        (
            'host = "mail',
            'port = 0\nhost = "mail',
            "port = 0",
            "mailbox[1].port: must be greater than or equal to 1",
        ),
    ],
)
def test_each_mistake_is_named_at_its_line(old, new, where, says, tmp_path):
    text = SHIPPED + MAILDIR + IMAP
    assert text.count(old) == 1
    text = text.replace(old, new)
    if isinstance(where, int):  # the header of that [[mailbox]]
        headers = [n for n, line in enumerate(text.splitlines(), 1) if line == "[[mailbox]]"]
        number = headers[where]
    else:
        number = line_of(text, where)
    assert problems(text, tmp_path) == [f"{number}: {says}"]
