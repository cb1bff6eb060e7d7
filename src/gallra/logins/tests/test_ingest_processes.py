"""`gallra logins ingest --processes N`: worker processes parse, the main process stores, and
what is stored is what one process stores, batch for batch."""

import os
from collections import Counter
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.logins import ingest, sshd
from gallra.logins.ingest import MAX_LINE, TOO_LONG, ingest_files
from gallra.logins.models import LoginEvent, LogSource, SealingKey
from gallra.logins.reveal import Request, reveal

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
COMPARED = ("at", "outcome", "method", "service", "host", "account", "pseudonym", "network")


def log_lines() -> list[bytes]:
    """Two months of attempts (a worker meets November before its key exists), registry
    and unknown names, hostile lines among them."""
    out = []
    for i in range(120):
        month, day = ("Oct", 30) if i < 60 else ("Nov", 24)
        ip = ("203.0.113.", "198.51.100.", "2001:6b0:1:2::")[i % 3] + str(i % 50 + 1)
        user = ("anna", "root", f"Sommar{i % 7}!", "x from 10.0.0.1")[i % 4]
        text = f"Failed password for {user} from {ip} port {40000 + i} ssh2"
        if i % 5 == 0:
            text = f"Accepted publickey for {user} from {ip} port {40000 + i} ssh2: ED25519 x"
        out.append(f"{month} {day} 10:{i // 60:02d}:{i % 60:02d} web1 sshd[{i}]: {text}".encode())
        if i % 17 == 3:
            out.append(b"Nov 24 11:00:00 web1 sshd[1]: Failed password for " + b"x" * MAX_LINE)
        if i % 19 == 4:
            out.append(
                b"Nov 24 11:00:01 web1 sshd[2]: message repeated 50000 times: [ Failed "
                b"password for root from 192.0.2.9 port 22 ssh2]"
            )
        if i % 23 == 5:
            out.append(b"\xff\xfe\x00garbage \x00 from 203.0.113.9")
    return out


def write(path, raw_lines: list[bytes]):
    path.write_bytes(b"".join(line + b"\n" for line in raw_lines))
    os.utime(path, (NOW.timestamp(), NOW.timestamp()))
    return path


def stored() -> list[tuple]:
    """The events in the order of their ids, without what is random (the sealing)."""
    rows = LoginEvent.objects.order_by("id").values_list(*COMPARED, "sealed", "sealed_with")
    return [(*r[:-2], len(bytes(r[-2]))) for r in rows]


def revealed(shares, out) -> list[str]:
    window = {
        "case": "5000-K1-26",
        "requested_by": "Polisen",
        "actor": "vd",
        "start": datetime(2026, 10, 1, tzinfo=UTC),
        "end": NOW,
    }
    result = reveal(Request(ip_prefix="0.0.0.0/0", **window), shares[:2], out, NOW)
    return [r["ip"] for r in result.rows]


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 7 lines: a file of a few dozen lines goes to the workers."""
    monkeypatch.setattr(ingest, "BATCH_LINES", 7)


@pytest.mark.usefixtures("small_batches")
def test_two_processes_store_what_one_process_stores(shares, policy, accounts, tmp_path):
    log = write(tmp_path / "auth.log", log_lines())
    one = ingest_files([log], policy, now=NOW, processes=1)
    by_one, ips_by_one = stored(), revealed(shares, tmp_path / "one")
    LoginEvent.objects.all().delete()
    LogSource.objects.all().delete()  # the same file, as if never read

    two = ingest_files([log], policy, now=NOW, processes=2)
    assert two.as_dict() == one.as_dict()
    assert stored() == by_one
    assert revealed(shares, tmp_path / "two") == ips_by_one  # workers seal what reveal opens
    assert one.events == 120 + 100 * 7 and one.skipped[TOO_LONG] == 7
    assert one.skipped[sshd.TOO_MANY_REPEATS] == 7
    assert "x from 10.0.0.1" not in str(by_one) and "Sommar1!" not in str(by_one)


@pytest.mark.usefixtures("small_batches")
def test_no_nonce_is_used_twice_under_a_key(shares, policy, tmp_path):
    log = write(tmp_path / "auth.log", log_lines())
    assert ingest_files([log], policy, now=NOW, processes=2).events == 820
    nonces = Counter(
        (key, bytes(sealed)[:12])
        for sealed, key in LoginEvent.objects.values_list("sealed", "sealed_with")
    )
    assert len(nonces) == 820 and max(nonces.values()) == 1
    # one key per month, made by the main process, as one process makes them
    assert SealingKey.objects.count() == 2


@pytest.mark.usefixtures("small_batches")
def test_a_rerun_after_a_killed_run_stores_nothing_twice(shares, policy, tmp_path, monkeypatch):
    log = write(tmp_path / "auth.log", log_lines())
    real_write = ingest.EventWriter.write
    calls = []

    def killed_on_the_fifth_batch(self, rows, months=None):
        calls.append(len(rows))
        if len(calls) == 5:
            raise KeyboardInterrupt  # killed inside the batch's transaction
        real_write(self, rows, months)

    monkeypatch.setattr(ingest.EventWriter, "write", killed_on_the_fifth_batch)
    with pytest.raises(KeyboardInterrupt):
        ingest_files([log], policy, now=NOW, processes=2)
    assert LoginEvent.objects.count() == sum(calls[:4])  # four whole batches, no more
    monkeypatch.setattr(ingest.EventWriter, "write", real_write)
    report = ingest_files([log], policy, now=NOW, processes=2)
    assert report.events == 820 - sum(calls[:4])
    assert ingest_files([log], policy, now=NOW, processes=2).events == 0
    at_host = Counter(LoginEvent.objects.filter(method="publickey").values_list("at", "host"))
    assert len(at_host) == 24 and max(at_host.values()) == 1


def test_the_command_takes_a_number_of_processes(shares, tmp_path, capsys):
    log = write(tmp_path / "auth.log", log_lines()[:4])
    call_command("logins", "ingest", str(log), "--processes", "2", "--format", "json")
    assert '"events": 4' in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("logins", "ingest", str(log), "--processes", "0")
