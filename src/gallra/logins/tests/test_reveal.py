"""An authority asks about one night: two key holders reveal exactly that, and it is logged."""

import csv
import io
import itertools
from datetime import UTC, date, datetime

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.evidence.models import Entry
from gallra.logins import escrow
from gallra.logins.escrow import ShareError, new_escrow, share_text
from gallra.logins.ingest import ingest_files
from gallra.logins.models import Escrow, LoginEvent, SealingKey
from gallra.logins.reveal import Request, RevealRefused, reveal
from gallra.retention.enforcement import enforce

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NIGHT = (datetime(2026, 11, 24, 22, 0, tzinfo=UTC), datetime(2026, 11, 25, 6, 0, tzinfo=UTC))
LOG = """\
Nov 24 20:00:00 web1 sshd[1]: Failed password for root from 192.0.2.10 port 1 ssh2
Nov 24 23:10:00 web1 sshd[2]: Failed password for root from 203.0.113.7 port 1 ssh2
Nov 24 23:10:02 web1 sshd[2]: Failed password for root from 203.0.113.99 port 1 ssh2
Nov 25 01:30:00 web1 sshd[3]: Failed password for invalid user deploy from 2001:db8:5::9 port 2 ssh2
Nov 25 02:00:00 web1 sshd[4]: Accepted password for anna from 198.51.100.4 port 3 ssh2
Nov 25 08:00:00 web1 sshd[5]: Failed password for root from 203.0.113.8 port 1 ssh2
"""


@pytest.fixture
def night(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text(LOG)
    assert ingest_files([log], policy, now=NOW).events == 6
    return shares


def ask(**kw):
    fields = {
        "case": "5000-K123456-26",
        "requested_by": "Polisen, Region Stockholm",
        "actor": "vd",
        "start": NIGHT[0],
        "end": NIGHT[1],
        **kw,
    }
    return Request(**fields)


def test_two_shares_reveal_the_exact_addresses_of_the_window_only(night, tmp_path):
    result = reveal(ask(reason="intrångsförsök"), [night[0], night[2]], tmp_path / "out", NOW)
    rows = list(csv.DictReader(result.report_csv.open()))
    # Stockholm is UTC+1 in November: 23:10 local is 22:10 UTC, inside the window; 20:00
    # local (before) and 08:00 local (after) are outside it.
    assert [r["ip"] for r in rows] == [
        "203.0.113.7",
        "203.0.113.99",
        "2001:db8:5::9",
        "198.51.100.4",
    ]
    entry = Entry.objects.get(action="logins_revealed")
    assert entry.data["case"] == "5000-K123456-26"
    assert entry.data["requested_by"] == "Polisen, Region Stockholm"
    assert entry.data["revealed"] == 4 and entry.actor == "vd"
    assert entry.refs == [
        f"login-event-{e.pk}"
        for e in LoginEvent.objects.filter(at__gte=NIGHT[0], at__lt=NIGHT[1]).order_by("at", "id")
    ]
    # the evidence names what was revealed, never the addresses
    assert "203.0.113.7" not in str(entry.data) + " ".join(entry.refs)
    summary = result.report_text.read_text()
    assert "5000-K123456-26" in summary and "Polisen, Region Stockholm" in summary
    assert f"entry {entry.pk}" in summary


def test_any_two_of_the_three_shares_open_it(night, tmp_path):
    for pair in itertools.permutations(night, 2):
        result = reveal(ask(), list(pair), tmp_path, NOW)
        assert len(result.rows) == 4


def test_a_network_prefix_or_an_account_narrows_what_is_opened(night, tmp_path):
    result = reveal(ask(ip_prefix="203.0.113.99"), night[:2], tmp_path, NOW)
    assert [r["ip"] for r in result.rows] == ["203.0.113.99"]
    result = reveal(ask(ip_prefix="203.0.113.0/24"), night[:2], tmp_path, NOW)
    assert [r["ip"] for r in result.rows] == ["203.0.113.7", "203.0.113.99"]
    # "deploy" is no registry account: found through its pseudonym for the month
    result = reveal(ask(account="deploy"), night[:2], tmp_path, NOW)
    assert [(r["ip"], r["account"]) for r in result.rows] == [("2001:db8:5::9", "deploy")]


def test_one_share_reveals_nothing_and_says_why(night, tmp_path):
    with pytest.raises(RevealRefused, match="2 different shares are needed and 1 were given"):
        reveal(ask(), [night[1]], tmp_path, NOW)
    with pytest.raises(RevealRefused, match="2 different shares are needed and 1 were given"):
        reveal(ask(), [night[1], night[1]], tmp_path, NOW)
    refused = Entry.objects.filter(action="logins_reveal_refused")
    assert refused.count() == 2  # each attempt is evidence too
    assert all(e.data["revealed"] == 0 and "needed" in e.data["refused"] for e in refused)
    assert not list(tmp_path.glob("reveal-*"))


def test_a_wrong_share_reveals_nothing_and_says_why(night, tmp_path):
    mistyped = night[1][:-12] + ("a" if night[1][-12] != "a" else "b") + night[1][-11:]
    with pytest.raises(RevealRefused, match="share 2 is damaged or mistyped"):
        reveal(ask(), [night[0], mistyped], tmp_path, NOW)
    # a forged share with a valid check: the shares no longer fit the escrow key
    share = escrow.parse_share(night[1], 1)
    forged = share_text(share.set_id, 2, share.x, bytes(b ^ 1 for b in share.y))
    with pytest.raises(RevealRefused, match="do not open the escrow key"):
        reveal(ask(), [night[0], forged], tmp_path, NOW)
    # shares of another escrow key (another provider, or a key made again)
    _, _, others = new_escrow(3, 2)
    with pytest.raises(RevealRefused, match="belongs to escrow key"):
        reveal(ask(), others[:2], tmp_path, NOW)
    with pytest.raises(RevealRefused, match="not a gallra escrow share"):
        reveal(ask(), ["correct horse battery staple", night[0]], tmp_path, NOW)


def test_without_the_shares_the_database_alone_opens_nothing(night):
    """Everything stored, even the wrapped keys, does not give the address back: a wrong key
    fails AES-GCM's authentication (InvalidTag), not some other error that a bug would raise
    as well (a TypeError would not pass here)."""
    event = LoginEvent.objects.filter(network="203.0.113.0/24").first()
    key = SealingKey.objects.get(pk=event.sealed_with)
    label = f"login-sealing-key:{key.month:%Y-%m}".encode()
    current = Escrow.current()
    right = escrow.private_key_from_shares(night[:2], current.set_id, current.public_key)
    assert len(escrow.unwrap(key.wrapped, key.ephemeral_public, right, label)) == 32  # control
    wrong_keys = [
        bytes(32),  # zeros
        X25519PrivateKey.generate().private_bytes_raw(),  # another escrow key
        bytes([right[0] ^ 0x40]) + right[1:],  # one bit off (a bit the curve does not clear)
    ]
    for wrong in wrong_keys:
        with pytest.raises(InvalidTag):
            escrow.unwrap(key.wrapped, key.ephemeral_public, wrong, label)
    # the right key, but the label of another month: the key is bound to its month
    with pytest.raises(InvalidTag):
        escrow.unwrap(key.wrapped, key.ephemeral_public, right, b"login-sealing-key:2026-10")
    # a wrapped key changed in storage
    tampered = bytes(key.wrapped)[:-1] + bytes([bytes(key.wrapped)[-1] ^ 1])
    with pytest.raises(InvalidTag):
        escrow.unwrap(tampered, key.ephemeral_public, right, label)


def test_after_the_month_keys_are_destroyed_nothing_is_revealed(night, policy, tmp_path):
    # November's keys live six months from 1 November: enforce on 1 May destroys them.
    enforce(policy, date(2027, 5, 1), now=lambda: datetime(2027, 5, 1, 3, tzinfo=UTC))
    assert not SealingKey.objects.filter(month=date(2026, 11, 1)).exists()
    with pytest.raises(RevealRefused, match="keys of 2026-11 were destroyed"):
        reveal(ask(), night[:2], tmp_path, datetime(2027, 5, 2, tzinfo=UTC))
    # the anonymous part stays until the retention rule removes it
    assert LoginEvent.objects.filter(at__gte=NIGHT[0], at__lt=NIGHT[1]).count() == 4


def test_reveal_command_reads_shares_from_stdin_and_requires_a_case(
    night, staff_member, tmp_path, monkeypatch
):
    window = ["--from", "2026-11-24T23:00", "--to", "2026-11-25T07:00"]
    # P22: a technician may not reveal, whatever shares they hold; the accountable role may.
    staff_member("tekniker", "technician")
    staff_member("vd", "ceo")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(night[1:]) + "\n"))
    with pytest.raises(CommandError, match="'tekniker' is not a staff user who may reveal"):
        call_command(
            "logins",
            "reveal",
            *window,
            "--case",
            "K-0",
            "--requested-by",
            "Polisen",
            "--actor",
            "tekniker",
            "--out",
            str(tmp_path),
        )
    assert not Entry.objects.filter(action="logins_revealed").exists()
    out = io.StringIO()
    call_command(
        "logins",
        "reveal",
        *window,
        "--case",
        "K-1",
        "--requested-by",
        "Polisen",
        "--actor",
        "vd",
        "--out",
        str(tmp_path),
        stdout=out,
    )
    assert "4 events revealed" in out.getvalue()
    monkeypatch.setattr("sys.stdin", io.StringIO(night[0]))
    with pytest.raises(CommandError, match="nothing revealed: 2 different shares"):
        call_command(
            "logins",
            "reveal",
            "--from",
            "2026-11-24T23:00",
            "--to",
            "2026-11-25T07:00",
            "--case",
            "K-2",
            "--requested-by",
            "Polisen",
            "--actor",
            "vd",
            "--out",
            str(tmp_path),
        )
    with pytest.raises(CommandError, match="--case"):
        call_command(
            "logins",
            "reveal",
            "--from",
            "2026-11-24T23:00",
            "--to",
            "2026-11-25T07:00",
            "--requested-by",
            "Polisen",
            "--actor",
            "vd",
        )


def test_shamir_split_and_combine():
    secret = bytes(range(32))
    points = escrow.split(secret, 5, 3)
    for trio in itertools.combinations(points, 3):
        assert escrow.combine(list(trio)) == secret
    assert escrow.combine(points[:2]) != secret
    with pytest.raises(ValueError, match=r"^need 1 <= threshold <= shares <= 255$"):
        escrow.split(secret, 2, 3)
    with pytest.raises(ShareError, match="^no shares were given"):
        escrow.private_key_from_shares([], "x", b"")
