"""Issue 16, item 13: `gallra demo` leaves no raw IP address on disk (P7).

The demo's sshd log holds raw addresses; gallra keeps only the /24 (or /48) network and the
address sealed in escrow. The log used to stay in the data directory. Here every file under
GALLRA_DATA (the SQLite database and any journal or WAL beside it included), the temporary
directory the demo used, and every row of every table are searched for the addresses.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django.apps import apps
from django.core.management import call_command

from gallra.scanner.scan import IP, Scanner

# The addresses the demo's log holds, from _demo_logins: four users' logins from
# 81.234.(20+i).(40+i), a brute-force run from 203.0.113.50-52, a failure from 198.51.100.7
# and a login from abroad, 8.8.8.8.
ADDRESSES = [
    "81.234.20.40",
    "81.234.21.41",
    "81.234.22.42",
    "81.234.23.43",
    "203.0.113.50",
    "203.0.113.51",
    "203.0.113.52",
    "198.51.100.7",
    "8.8.8.8",
]
NETWORKS = {
    "81.234.20.0/24",
    "81.234.21.0/24",
    "81.234.22.0/24",
    "81.234.23.0/24",
    "203.0.113.0/24",
    "198.51.100.0/24",
    "8.8.8.0/24",
}


def addresses_in(folder: Path) -> list[tuple[str, str]]:
    """(file, address) for every demo address, or any address the scanner finds, in the files
    under folder; binary files are read as Latin-1 so that every byte is a character."""
    found = []
    scanner = Scanner([])
    # A restic repository's files are ciphertext: random bytes the scanner's pattern matches by
    # chance ("E::" is an IPv6 address). They are still searched for every demo address.
    repositories = [c.parent for c in folder.rglob("config") if (c.parent / "keys").is_dir()]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("latin-1")
        found += [(path.name, a) for a in ADDRESSES if a in text]
        if not any(r in path.parents for r in repositories):
            found += [(path.name, f.text) for f in scanner.scan(text) if f.kind == IP]
    return found


def test_the_demo_leaves_no_raw_address_in_the_data_directory(gallra, tmp_path):
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    gallra.env["TMPDIR"] = str(temporary)
    gallra.run("init")
    gallra.data.joinpath("demo-auth.log").write_text(  # as gallra before issue 16 left it
        "Dec  6 22:00:00 web1 sshd[4000]: Accepted publickey for a from 81.234.20.40 port 1\n"
    )
    out = gallra.run("demo").stdout
    assert "login events    18 from last night's demo auth.log" in out
    # the log was read: its networks are stored, truncated
    networks = {n for (n,) in gallra.query("SELECT DISTINCT network FROM logins_loginevent")}
    assert networks == NETWORKS
    files = sorted(p.name for p in gallra.data.iterdir())
    assert "demo-auth.log" not in files and "gallra.sqlite3" in files
    assert addresses_in(gallra.data) == []
    assert list(temporary.iterdir()) == []  # the demo's temporary log is gone too

    gallra.run("demo")  # a second run adds nothing, and leaves nothing
    assert addresses_in(gallra.data) == []
    assert list(temporary.iterdir()) == []


def test_the_database_holds_no_raw_address_after_the_demo(
    db, settings, tmp_path, monkeypatch, capsys
):
    """In this process, on the suite's database (SQLite or PostgreSQL): every table's rows."""
    data, temporary = tmp_path / "data", tmp_path / "tmp"
    data.mkdir()
    temporary.mkdir()
    settings.GALLRA_DATA = data
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    call_command("demo", "--data-only")  # the data; the first hour runs in the test above
    assert "login events    18" in capsys.readouterr().out
    from gallra.logins.models import LoginEvent

    assert set(LoginEvent.objects.values_list("network", flat=True)) == NETWORKS
    for model in apps.get_models():
        for row in model.objects.values_list():
            text = repr(row)
            assert not [a for a in ADDRESSES if a in text], (model.__name__, row)
    assert addresses_in(data) == []
    assert os.listdir(temporary) == []
