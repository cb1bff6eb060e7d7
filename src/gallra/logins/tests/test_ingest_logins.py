"""Reading auth.log and journal files: what is stored, and that nothing is stored twice."""

import gzip
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
from django.db import OperationalError, connection

from gallra.logins import ingest
from gallra.logins.ingest import follow, ingest_files
from gallra.logins.models import LoginEvent

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# Unknown user names are often passwords typed into the wrong field.
SECRET_USERS = ["Sommar2026!", "hunter2-anna", "P@ssw0rd-backup"]
IPS = [
    "203.0.113.7",
    "198.51.100.23",
    "81.234.5.6",
    "2001:6b0:1:2::5",
    "2a02:aa1:1000::17",
    "192.0.2.200",
]


def lines(n: int, start: int = 0, minute: int = 10) -> list[str]:
    """n distinct sshd lines, each a different attempt."""
    out = []
    for i in range(start, start + n):
        ip = IPS[i % len(IPS)]
        second = i % 60
        user = SECRET_USERS[i % len(SECRET_USERS)]
        if i % 4 == 0:
            text = f"Accepted publickey for anna from {ip} port {40000 + i} ssh2: ED25519 SHA256:x"
        elif i % 4 == 1:
            text = f"Failed password for invalid user {user} from {ip} port {40000 + i} ssh2"
        elif i % 4 == 2:
            text = f"Failed password for root from {ip} port {40000 + i} ssh2"
        else:
            text = f"Invalid user {user} from {ip} port {40000 + i}"
        out.append(
            f"Nov 24 22:{minute + i // 60 % 40:02d}:{second:02d} web1 sshd[{1000 + i}]: {text}"
        )
    return out


def write(path, text_lines, mode="w"):
    with open(path, mode) as f:
        f.write("".join(line + "\n" for line in text_lines))
    os.utime(path, (NOW.timestamp(), NOW.timestamp()))


def test_what_is_stored_per_event(shares, policy, accounts, tmp_path):
    log = tmp_path / "auth.log"
    write(log, lines(8))
    report = ingest_files([log], policy, now=NOW)
    assert (report.lines, report.events) == (8, 8)
    rows = list(LoginEvent.objects.order_by("at", "id").values())
    success = rows[0]
    assert (success["outcome"], success["method"], success["service"]) == (
        "success",
        "publickey",
        "ssh",
    )
    assert success["account"] == "anna" and success["pseudonym"] == ""
    assert success["network"] == "203.0.113.0/24"
    unknown = rows[1]
    assert unknown["account"] == "" and len(unknown["pseudonym"]) == 32
    ipv6 = next(r for r in rows if r["network"].startswith("2001:6b0"))
    assert ipv6["network"] == "2001:6b0:1::/48"
    assert ipv6["country"] == "SE"  # SUNET, from the registries' data in iptocc
    assert next(r for r in rows if r["network"] == "81.234.5.0/24")["country"] == "SE"
    assert all(len(bytes(r["sealed"])) > 16 and r["sealed_with"] for r in rows)
    # the same unknown name gets the same pseudonym within the month; another name another
    by_name = {}
    for row, line in zip(rows, lines(8), strict=True):
        for name in SECRET_USERS:
            if f" {name} " in line:
                by_name.setdefault(name, set()).add(row["pseudonym"])
    assert all(len(p) == 1 for p in by_name.values())
    assert len({next(iter(p)) for p in by_name.values()}) == len(by_name)


def _text(value) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return str(value)


def _all_stored_text() -> str:
    """Every row of every table, as text (blobs in hex), the way someone with the database
    would see it."""
    tables = connection.introspection.table_names()
    out = []
    with connection.cursor() as cursor:
        for table in tables:
            if connection.vendor == "postgresql":
                cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (own tables)
            else:
                cursor.execute(f'SELECT * FROM "{table}"')  # noqa: S608
            for row in cursor.fetchall():
                out.append(" ".join(_text(value) for value in row))
    return "\n".join(out)


def test_no_table_holds_a_raw_address_or_an_unknown_user_name(shares, policy, accounts, tmp_path):
    log = tmp_path / "auth.log"
    write(log, lines(60))
    assert ingest_files([log], policy, now=NOW).events == 60
    stored = _all_stored_text()
    assert "203.0.113.0/24" in stored  # the scan does see the events
    for secret in IPS + SECRET_USERS:
        assert secret not in stored, secret
        assert secret.encode().hex() not in stored, secret


def test_the_database_file_holds_no_raw_address(tmp_path):
    """The commands a provider runs, on the embedded SQLite database: scan its files."""
    env = {**os.environ, "GALLRA_DATA": str(tmp_path / "data")}
    env.pop("GALLRA_DATABASE_URL", None)
    gallra = [sys.executable, "-m", "gallra"]
    log = tmp_path / "auth.log"
    write(log, lines(120))
    for args in (
        ["init"],
        ["logins", "escrow", "init", "--out", str(tmp_path / "shares")],
        ["logins", "ingest", str(log), "--format", "json"],
    ):
        done = subprocess.run(gallra + args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["events"] == 120
    files = list((tmp_path / "data").glob("gallra.sqlite3*"))
    content = b"".join(f.read_bytes() for f in files)
    assert b"203.0.113.0/24" in content
    for secret in IPS + SECRET_USERS:
        assert secret.encode() not in content, secret


def test_reading_a_file_again_or_its_rotated_copies_stores_nothing_twice(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    write(log, lines(10))
    assert ingest_files([log], policy, now=NOW).events == 10
    again = ingest_files([log], policy, now=NOW)
    assert (again.lines, again.events) == (0, 0)
    assert again.already_read == log.stat().st_size

    # More lines arrive, then logrotate renames the file and starts a new one.
    write(log, lines(5, start=10), mode="a")
    log.rename(tmp_path / "auth.log.1")
    write(log, lines(7, start=100, minute=50))
    report = ingest_files([tmp_path / "auth.log.1", log], policy, now=NOW)
    assert report.events == 5 + 7
    # A week later the rotated file is compressed; reading everything again adds nothing.
    with gzip.open(tmp_path / "auth.log.2.gz", "wb") as f:
        f.write((tmp_path / "auth.log.1").read_bytes())
    (tmp_path / "auth.log.1").unlink()
    report = ingest_files(sorted(tmp_path.glob("auth.log*")), policy, now=NOW)
    assert report.events == 0
    assert LoginEvent.objects.count() == 22


def test_a_line_still_being_written_waits_for_its_end(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    first, second = lines(2)
    log.write_text(first + "\n" + second[:30])
    assert ingest_files([log], policy, now=NOW).events == 1
    log.write_text(first + "\n" + second + "\n")
    assert ingest_files([log], policy, now=NOW).events == 1
    assert LoginEvent.objects.count() == 2


def test_a_run_killed_halfway_is_finished_by_the_next(shares, policy, tmp_path, monkeypatch):
    log = tmp_path / "auth.log"
    write(log, lines(50))
    monkeypatch.setattr(ingest, "BATCH_LINES", 7)
    real_write = ingest.EventWriter.write
    calls = []

    def crash_on_the_fourth_batch(self, rows, months=None):
        calls.append(len(rows))
        if len(calls) == 4:
            raise KeyboardInterrupt  # killed inside the batch's transaction
        real_write(self, rows, months)

    monkeypatch.setattr(ingest.EventWriter, "write", crash_on_the_fourth_batch)
    with pytest.raises(KeyboardInterrupt):
        ingest_files([log], policy, now=NOW)
    assert LoginEvent.objects.count() == 21  # three whole batches, nothing of the fourth
    monkeypatch.setattr(ingest.EventWriter, "write", real_write)
    report = ingest_files([log], policy, now=NOW)
    assert report.events == 29
    assert LoginEvent.objects.count() == 50


def test_malformed_lines_are_counted_by_category_never_fatal(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    good = lines(3)
    write(
        log,
        [
            good[0],
            "garbage",
            "\x00\x01 binary",
            "Nov 24 22:14:01 web1 sshd[1]: Failed password for root from 999.1.1.1 port 1 ssh2",
            good[1],
            "Nov 24 22:14:01 web1 CRON[2]: pam_unix(cron:session): session opened",
            "Nov 24 22:14:01 web1 sshd[1]: Server listening on :: port 22.",
            good[2],
        ],
    )
    report = ingest_files([log], policy, now=NOW)
    assert report.events == 3
    assert report.skipped == {
        "malformed: no timestamp": 2,
        "malformed: not an IP address": 1,
        "other": 1,
        "sshd, not a login event": 1,
    }


def test_journal_export_is_read_like_auth_log(shares, policy, tmp_path):
    path = tmp_path / "journal.json"
    micros = int(datetime(2026, 11, 24, 21, 27, 21, tzinfo=UTC).timestamp()) * 1_000_000
    entries = [
        {
            "__CURSOR": f"s=1;i={i}",
            "__REALTIME_TIMESTAMP": str(micros + i),
            "_HOSTNAME": "web2",
            "SYSLOG_IDENTIFIER": "sshd-session",
            "_UID": "0",
            "_COMM": "sshd-session",
            "_SYSTEMD_UNIT": "ssh.service",
            "MESSAGE": f"Failed password for root from 203.0.113.{i} port 1 ssh2",
        }
        for i in range(1, 6)
    ]
    path.write_text("\n".join(json.dumps(e) for e in entries) + "\n{broken\n")
    report = ingest_files([path], policy, now=NOW)
    assert report.events == 5
    assert report.skipped == {"malformed: not a journal JSON entry": 1}
    assert set(LoginEvent.objects.values_list("host", flat=True)) == {"web2"}


def test_events_past_retention_are_not_stored(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    old = "Oct 30 2025 10:00:00 web1 sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2"
    write(log, [old, *lines(1)])
    report = ingest_files([log], policy, now=NOW)
    assert report.events == 1
    assert report.skipped == {"older than the retention period": 1}


def test_events_older_than_the_reveal_period_are_stored_unsealed(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    write(
        log,
        [
            "Mar 10 2026 10:00:00 web1 sshd[1]: Failed password for root from 203.0.113.7 "
            "port 1 ssh2"
        ],
    )
    assert ingest_files([log], policy, now=NOW).events == 1
    event = LoginEvent.objects.get()
    assert event.network == "203.0.113.0/24"
    assert bytes(event.sealed) == b"" and event.sealed_with == 0


@pytest.mark.django_db(transaction=True)
def test_follow_reads_a_growing_log_across_rotation(shares, policy, tmp_path):
    log = tmp_path / "auth.log"
    write(log, lines(3))
    stop = threading.Event()
    result = {}

    def run():
        result["report"] = follow(log, policy, stop, poll=0.05)
        connection.close()  # this thread's own connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def count() -> int:
        try:
            return LoginEvent.objects.count()
        except OperationalError:  # SQLite's shared in-memory test database: "table is locked"
            return -1  # while the follower writes; look again

    def wait_for(n):
        deadline = time.monotonic() + 20
        while (found := count()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    try:
        assert wait_for(3) == 3
        write(log, lines(2, start=3), mode="a")
        assert wait_for(5) == 5
        # logrotate: rename, then the daemon writes to a new file (the last lines of the old
        # one were written just before the rename)
        write(log, lines(1, start=5), mode="a")
        log.rename(tmp_path / "auth.log.1")
        write(log, lines(4, start=200, minute=45))
        assert wait_for(10) == 10
        # copytruncate: the same file emptied in place, then written again
        log.write_text("")
        write(log, lines(2, start=300, minute=48))
        assert wait_for(12) == 12
    finally:  # a follower left running would hold the test database for the next tests
        stop.set()
        thread.join(10)
    assert result["report"].events == 12
    time.sleep(0.2)
    assert LoginEvent.objects.count() == 12
