"""sshd's lines as Debian, Ubuntu and journald write them, including broken ones."""

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from gallra.logins import sshd

STOCKHOLM = ZoneInfo("Europe/Stockholm")
REFERENCE = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def parse(line: str, reference: datetime = REFERENCE):
    return sshd.parse_line(line, sshd.Timestamps(STOCKHOLM, reference))


def one(line: str) -> sshd.Attempt:
    found = parse(line)
    assert isinstance(found, list) and len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("line", "outcome", "method", "user", "address"),
    [
        (
            "Nov 24 22:14:01 web1 sshd[1201]: Accepted password for anna from 203.0.113.7 port "
            "52144 ssh2",
            "success",
            "password",
            "anna",
            "203.0.113.7",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1201]: Accepted publickey for deploy from 198.51.100.20 "
            "port 40110 ssh2: ED25519 SHA256:Jx3bQ9kqv0tS5E7cJ7s2mO1wq5iYQfC9xJkq7lWc0pA",
            "success",
            "publickey",
            "deploy",
            "198.51.100.20",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1201]: Accepted keyboard-interactive/pam for bo from "
            "2001:db8:1:2::5 port 50000 ssh2",
            "success",
            "keyboard-interactive/pam",
            "bo",
            "2001:db8:1:2::5",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1201]: Failed password for root from 203.0.113.7 port "
            "52144 ssh2",
            "failure",
            "password",
            "root",
            "203.0.113.7",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1201]: Failed password for invalid user oracle from "
            "2a02:aa1:1000::17 port 40022 ssh2",
            "failure",
            "password",
            "oracle",
            "2a02:aa1:1000::17",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1201]: Failed publickey for anna from 203.0.113.7 port 22 "
            "ssh2: RSA SHA256:Zm9vYmFy",
            "failure",
            "publickey",
            "anna",
            "203.0.113.7",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1201]: Failed none for invalid user admin from 203.0.113.9 "
            "port 1022 ssh2",
            "failure",
            "none",
            "admin",
            "203.0.113.9",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1203]: Invalid user ubnt from 203.0.113.8 port 40022",
            "failure",
            "invalid_user",
            "ubnt",
            "203.0.113.8",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1203]: Invalid user  from 203.0.113.8 port 40022",
            "failure",
            "invalid_user",
            "",
            "203.0.113.8",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1500]: pam_unix(sshd:auth): authentication failure; "
            "logname= uid=0 euid=0 tty=ssh ruser= rhost=81.234.5.6  user=root",
            "failure",
            "pam",
            "root",
            "81.234.5.6",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1500]: pam_unix(sshd:auth): authentication failure; "
            "logname= uid=0 euid=0 tty=ssh ruser= rhost=scanner.example.net",
            "failure",
            "pam",
            "",
            "scanner.example.net",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1400]: Connection closed by authenticating user root "
            "198.51.100.4 port 4242 [preauth]",
            "aborted",
            "preauth",
            "root",
            "198.51.100.4",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1400]: Connection closed by invalid user admin "
            "198.51.100.4 port 4242 [preauth]",
            "aborted",
            "preauth",
            "admin",
            "198.51.100.4",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1400]: Disconnected from invalid user test 198.51.100.4 "
            "port 4242 [preauth]",
            "aborted",
            "preauth",
            "test",
            "198.51.100.4",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1400]: Connection closed by 198.51.100.4 port 4242 "
            "[preauth]",
            "aborted",
            "preauth",
            "",
            "198.51.100.4",
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1400]: Connection reset by 2001:db8::1 port 4242 [preauth]",
            "aborted",
            "preauth",
            "",
            "2001:db8::1",
        ),
        # OpenSSH 9.8 and later: the per-connection process is sshd-session.
        (
            "Nov 24 22:14:01 web1 sshd-session[2301]: Failed password for root from 203.0.113.7 "
            "port 52144 ssh2",
            "failure",
            "password",
            "root",
            "203.0.113.7",
        ),
        (
            "Nov 24 22:14:01 web1 sshd-session[2301]: Accepted publickey for anna from "
            "::ffff:203.0.113.7 port 52144 ssh2: ED25519 SHA256:abc",
            "success",
            "publickey",
            "anna",
            "::ffff:203.0.113.7",
        ),
    ],
)
def test_every_kind_of_login_line(line, outcome, method, user, address):
    attempt = one(line)
    assert (attempt.outcome, attempt.method, attempt.username, attempt.address) == (
        outcome,
        method,
        user,
        address,
    )
    assert attempt.host == "web1"
    assert attempt.at == datetime(2026, 11, 24, 22, 14, 1, tzinfo=STOCKHOLM)


def test_message_repeated_stands_for_that_many_attempts():
    found = parse(
        "Nov 24 22:14:03 web1 sshd[1201]: message repeated 4 times: [ Failed password for "
        "root from 203.0.113.7 port 52144 ssh2]"
    )
    assert len(found) == 4
    assert {(a.outcome, a.username, a.address) for a in found} == {
        ("failure", "root", "203.0.113.7")
    }


def test_a_user_name_cannot_plant_another_address():
    """sshd writes the user name as given; the address is the last one on the line."""
    attempt = one(
        "Nov 24 22:14:01 web1 sshd[1]: Failed password for invalid user x from 10.0.0.1 port 1 "
        "ssh2 from 203.0.113.66 port 4711 ssh2"
    )
    assert attempt.address == "203.0.113.66"
    assert attempt.username == "x from 10.0.0.1 port 1 ssh2"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # with the year, in either place
        (
            "Nov 24 2025 22:14:01 web1 sshd[1]: Failed password for root from 203.0.113.7 port 1 "
            "ssh2",
            datetime(2025, 11, 24, 22, 14, 1, tzinfo=STOCKHOLM),
        ),
        (
            "2025 Nov 24 22:14:01 web1 sshd[1]: Failed password for root from 203.0.113.7 port 1 "
            "ssh2",
            datetime(2025, 11, 24, 22, 14, 1, tzinfo=STOCKHOLM),
        ),
        # RFC 3339, as rsyslog writes by default on Debian 12 and Ubuntu 24.04
        (
            "2026-11-24T22:14:01.123456+01:00 web1 sshd[1]: Failed password for root from "
            "203.0.113.7 port 1 ssh2",
            datetime(2026, 11, 24, 21, 14, 1, 123456, tzinfo=UTC),
        ),
        (
            "2026-07-01T10:00:00Z web1 sshd[1]: Failed password for root from 203.0.113.7 port 1 "
            "ssh2",
            datetime(2026, 7, 1, 10, 0, tzinfo=UTC),
        ),
        # space-padded day, and a line from December read in January: last year
        (
            "Dec  9 08:00:00 web1 sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2",
            datetime(2025, 12, 9, 8, 0, tzinfo=STOCKHOLM),
        ),
    ],
)
def test_timestamps_with_and_without_a_year(line, expected):
    reference = datetime(2026, 1, 10, tzinfo=UTC) if line.startswith("Dec") else REFERENCE
    [attempt] = parse(line, reference)
    assert attempt.at == expected


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("garbage line here", sshd.NO_TIMESTAMP),
        ("", sshd.NO_TIMESTAMP),
        ("Nov 24 22:14", sshd.NO_TIMESTAMP),
        (
            "Foo 24 22:14:01 web1 sshd[1]: Failed password for root from 1.2.3.4 port 1 ssh2",
            sshd.NO_TIMESTAMP,
        ),
        (
            "Feb 31 22:14:01 web1 sshd[1]: Failed password for root from 1.2.3.4 port 1 ssh2",
            sshd.NO_TIMESTAMP,
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1]: Failed password for root from 203.0.113.7 po",
            sshd.BAD_LINE,
        ),
        ("Nov 24 22:14:01 web1 sshd[1]: message repeated 2 times: Failed password", sshd.BAD_LINE),
        ("Nov 24 22:14:01 web1 sshd[1]: \x00\x01\x02", sshd.BAD_LINE),
        (
            "Nov 24 22:14:01 web1 CRON[9]: pam_unix(cron:session): session opened for user root",
            sshd.OTHER,
        ),
        (
            "Nov 24 22:14:01 web1 sudo:     anna : TTY=pts/0 ; PWD=/home/anna ; USER=root ; "
            "COMMAND=/usr/bin/apt update",
            sshd.OTHER,
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1]: pam_unix(sshd:session): session opened for user "
            "anna(uid=1000) by (uid=0)",
            sshd.NOT_LOGIN,
        ),
        (
            "Nov 24 22:14:01 web1 sshd[1]: Received disconnect from 203.0.113.7 port 1:11: "
            "disconnected by user",
            sshd.NOT_LOGIN,
        ),
        ("Nov 24 22:14:01 web1 sshd[1]: Server listening on :: port 22.", sshd.NOT_LOGIN),
        (
            "Nov 24 22:14:01 web1 sshd[1]: PAM 2 more authentication failures; logname= uid=0 "
            "euid=0 tty=ssh ruser= rhost=203.0.113.7  user=root",
            sshd.NOT_LOGIN,
        ),
    ],
)
def test_lines_that_are_no_login_event_are_named_by_category(line, category):
    assert parse(line) == category


def _journal(message, identifier="sshd", micros=1_764_019_641_000_000, **extra):
    return json.dumps(
        {
            "__CURSOR": "s=1;i=2",
            "__REALTIME_TIMESTAMP": str(micros),
            "_HOSTNAME": "web2",
            "SYSLOG_IDENTIFIER": identifier,
            "_PID": "1201",
            "_UID": "0",
            "_COMM": identifier,
            "_EXE": f"/usr/sbin/{identifier}",
            "MESSAGE": message,
            **extra,
        }
    )


def test_journal_json_export():
    [attempt] = sshd.parse_journal_entry(
        _journal("Failed password for root from 2001:db8::7 port 52144 ssh2", "sshd-session")
    )
    assert attempt.at == datetime(2025, 11, 24, 21, 27, 21, tzinfo=UTC)
    assert (attempt.outcome, attempt.address, attempt.host) == ("failure", "2001:db8::7", "web2")


def test_journal_message_that_is_not_utf8_comes_as_bytes():
    raw = list(b"Failed password for invalid user \xff\xfe from 203.0.113.7 port 1 ssh2")
    [attempt] = sshd.parse_journal_entry(_journal(raw))
    assert attempt.address == "203.0.113.7"
    assert attempt.username == "\ufffd\ufffd"


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("{not json", sshd.BAD_JSON),
        ("[1, 2]", sshd.BAD_JSON),
        (
            json.dumps({"MESSAGE": "Failed password for root from 1.2.3.4 port 1 ssh2"}),
            sshd.BAD_JSON,
        ),
        (_journal("Started Session 1 of user anna.", "systemd"), sshd.OTHER),
        (_journal("Server listening on 0.0.0.0 port 22."), sshd.NOT_LOGIN),
    ],
)
def test_broken_journal_lines(line, category):
    assert sshd.parse_journal_entry(line) == category
