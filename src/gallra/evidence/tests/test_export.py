"""`gallra evidence export`: every field and both hashes, re-verifiable without gallra."""

import csv
import hashlib
import io
import json
from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from gallra.evidence.log import append
from gallra.evidence.models import Entry

HASHED = ("seq", "at", "actor", "action", "rule", "record_type", "count", "refs", "customers")
HASHED += ("data",)


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("evidence", "export", *args, stdout=out)
    return out.getvalue()


def recheck(rows: list[dict]) -> None:
    """An auditor's own check, written from docs/evidence.md rather than gallra's code."""
    prev = "0" * 64
    for row in rows:
        assert row["prev_hash"] == prev, row["seq"]
        content = {name: row[name] for name in HASHED}
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.sha256((prev + text).encode("utf-8")).hexdigest()
        assert digest == row["hash"], row["seq"]
        prev = digest


def stored() -> list[dict]:
    return [
        {
            **{name: getattr(e, name) for name in HASHED},
            "at": e.at.isoformat(timespec="microseconds"),
            "prev_hash": e.prev_hash,
            "hash": e.hash,
        }
        for e in Entry.objects.order_by("seq")
    ]


@pytest.fixture
def varied(five):
    append("policy_changed", actor="staff:åsa", at=five[-1].at, data={"revision": "2026-04"})
    append(
        "export",
        actor="staff:anna",
        at=five[-1].at,
        record_type="customer",
        refs=["C-1"],
        customers=["C-1"],
        data={"format": "json", "quoted": 'a "b", c\nd', "n": [1, 2, {"x": None}]},
    )


def test_json_round_trips_and_reverifies(varied):
    rows = json.loads(export())
    assert rows == stored()
    assert len(rows) == 7 and rows[0]["at"] == "2026-03-01T09:00:00.000000+00:00"
    recheck(rows)


def test_csv_round_trips_and_reverifies(varied, tmp_path):
    path = tmp_path / "evidence.csv"
    assert export("--format", "csv", "--out", str(path)) == ""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == [*HASHED, "prev_hash", "hash"]
        rows = [
            {
                **row,
                "seq": int(row["seq"]),
                "count": int(row["count"]),
                "refs": json.loads(row["refs"]),
                "data": json.loads(row["data"]),
            }
            for row in reader
        ]
    assert rows == stored()
    recheck(rows)


def test_csv_to_stdout(five):
    lines = export("--format", "csv").splitlines()
    assert lines[0].startswith("seq,at,actor,action,")
    assert len(lines) == 6


def test_json_to_file(five, tmp_path):
    path = tmp_path / "evidence.json"
    export("--out", str(path))
    recheck(json.loads(path.read_text(encoding="utf-8")))


def test_empty_log(db):
    assert json.loads(export()) == []
    assert export("--format", "csv").splitlines() == [",".join([*HASHED, "prev_hash", "hash"])]


def test_days_are_stockholm_days(db):
    times = [
        datetime(2026, 2, 28, 23, 30, tzinfo=UTC),  # 1 March 00:30 in Stockholm
        datetime(2026, 3, 1, 22, 59, tzinfo=UTC),  # 1 March 23:59
        datetime(2026, 3, 1, 23, 30, tzinfo=UTC),  # 2 March 00:30
        datetime(2026, 3, 2, 22, 59, 59, 999999, tzinfo=UTC),  # 2 March 23:59:59.999999
        datetime(2026, 3, 2, 23, 0, tzinfo=UTC),  # 3 March 00:00
    ]
    for at in times:
        append("delete", actor="enforce", at=at, refs=["P-1"])

    def seqs(*args: str) -> list[int]:
        return [row["seq"] for row in json.loads(export(*args))]

    assert seqs("--from", "2026-03-02", "--to", "2026-03-02") == [3, 4]
    assert seqs("--from", "2026-03-01", "--to", "2026-03-01") == [1, 2]
    assert seqs("--to", "2026-03-01") == [1, 2]
    assert seqs("--from", "2026-03-02") == [3, 4, 5]
    assert seqs("--from", "2026-03-01", "--to", "2026-03-03") == [1, 2, 3, 4, 5]
    assert seqs("--to", "2026-02-28") == []


def test_summer_time_day(db):
    append("delete", actor="enforce", at=datetime(2026, 7, 1, 21, 59, tzinfo=UTC))  # 23:59
    append("delete", actor="enforce", at=datetime(2026, 7, 1, 22, 0, tzinfo=UTC))  # 2 July
    assert [r["seq"] for r in json.loads(export("--to", "2026-07-01"))] == [1]


@pytest.mark.parametrize(
    "args",
    [
        ("--from", "yesterday"),
        ("--to", "2026-02-30"),
        ("--from", "2026-03-02", "--to", "2026-03-01"),
    ],
)
def test_bad_dates(db, args):
    with pytest.raises(CommandError) as caught:
        export(*args)
    assert caught.value.returncode == 2


def test_unwritable_out(db, tmp_path):
    with pytest.raises(CommandError) as caught:
        export("--out", str(tmp_path / "missing" / "evidence.json"))
    assert caught.value.returncode == 2
