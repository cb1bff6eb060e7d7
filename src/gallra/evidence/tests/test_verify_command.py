"""`gallra evidence verify`: intact chains pass; any edit made behind gallra's back is named.

Tampering goes straight to the database (queryset updates and raw SQL), as someone with
database access would, never through the model.
"""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from gallra.evidence.models import GENESIS, ChainHead, Entry, chain_hash

TABLE = Entry._meta.db_table
CONTENT = ("at", "actor", "action", "rule", "record_type", "count", "refs", "customers", "data")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("evidence", "verify", *args, stdout=out)
    return out.getvalue()


def broken() -> str:
    with pytest.raises(CommandError) as caught:
        run()
    assert caught.value.returncode == 1
    return str(caught.value)


def test_intact_chain(five):
    assert run() == f"evidence: 5 entries, chain intact, head {five[-1].hash}\n"


def test_empty_log(db):
    assert run() == f"evidence: 0 entries, chain intact, head {GENESIS}\n"


def test_json_format(five):
    assert json.loads(run("--format", "json")) == {
        "ok": True,
        "count": 5,
        "head": five[-1].hash,
        "bad_seq": None,
        "problem": "",
        "pruned": None,
    }


def test_json_format_when_broken(five):
    Entry.objects.filter(seq=3).update(count=99)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("evidence", "verify", "--format", "json", stdout=out)
    result = json.loads(out.getvalue())
    assert (result["ok"], result["bad_seq"], result["count"]) == (False, 3, 2)


def test_altered_content(five):
    Entry.objects.filter(seq=3).update(count=99)
    assert broken() == "entry 3: content does not match its hash (altered)"


def test_altered_content_raw_sql(five):
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {TABLE} SET actor = %s WHERE seq = %s", ["staff:mallory", 4])  # noqa: S608
    assert broken() == "entry 4: content does not match its hash (altered)"


def test_altered_refs(five):
    Entry.objects.filter(seq=2).update(refs=["P-2"])
    assert broken() == "entry 2: content does not match its hash (altered)"


def test_altered_time(five):
    Entry.objects.filter(seq=5).update(at=five[0].at)
    assert broken() == "entry 5: content does not match its hash (altered)"


def test_altered_hash(five):
    Entry.objects.filter(seq=3).update(hash="f" * 64)
    assert broken() == "entry 3: content does not match its hash (altered)"


def test_altered_and_rehashed_entry_is_caught_by_the_next(five):
    """Recomputing the altered entry's hash does not help: the next entry still points at the
    old one."""
    entry = Entry.objects.get(seq=3)
    entry.count = 99
    Entry.objects.filter(seq=3).update(count=99, hash=entry.compute_hash())
    assert broken().startswith("entry 4: its prev_hash is not entry 3's hash")


def test_deleted_middle_entry(five):
    Entry.objects.filter(seq=3).delete()
    assert broken() == "entry 3: missing (removed; the next stored entry is 4)"


def test_deleted_first_entry(five):
    Entry.objects.filter(seq=1).delete()
    assert broken() == "entry 1: missing (removed; the next stored entry is 2)"


def test_deleted_last_entry(five):
    Entry.objects.filter(seq=5).delete()
    assert broken() == (
        "entry 5: missing: the chain head records 5 entries, the last stored is 4 "
        "(removed from the end)"
    )


def test_deleted_everything(five):
    Entry.objects.all().delete()
    assert broken().startswith("entry 1: missing: the chain head records 5 entries")


def test_swapped_entries(five):
    """Two rows exchange everything but their seq: the first of them is named."""
    two, three = (
        Entry.objects.filter(seq=s).values(*CONTENT, "prev_hash", "hash").get() for s in (2, 3)
    )
    Entry.objects.filter(seq=2).update(**three)
    Entry.objects.filter(seq=3).update(**two)
    assert (
        broken() == "entry 2: neither its content nor its link matches (moved, replaced or altered)"
    )


def test_swapped_content_only(five):
    """Exchanging the content but keeping each row's hashes: both fail their hash."""
    two, three = (Entry.objects.filter(seq=s).values(*CONTENT).get() for s in (2, 3))
    Entry.objects.filter(seq=2).update(**three)
    Entry.objects.filter(seq=3).update(**two)
    assert broken() == "entry 2: content does not match its hash (altered)"


def test_renumbered_entries(five):
    """Moving the last entry into a gap left by a deleted one is still caught."""
    Entry.objects.filter(seq=3).delete()
    Entry.objects.filter(seq=5).update(seq=3)
    assert broken().startswith("entry 3: neither its content nor its link matches")


def test_replaced_last_entry(five):
    """A new last entry, correctly chained to entry 4, differs from what the head recorded."""
    entry = Entry.objects.get(seq=5)
    entry.count = 0
    Entry.objects.filter(seq=5).update(count=0, hash=entry.compute_hash())
    assert (
        broken() == "entry 5: its hash differs from the chain head's (the last entry was replaced)"
    )


def test_entry_added_behind_gallras_back(five):
    last = five[-1]
    content = {**last.hashed_content(), "seq": 6}
    Entry.objects.bulk_create(
        [
            Entry(
                seq=6,
                **{f: getattr(last, f) for f in CONTENT},
                prev_hash=last.hash,
                hash=chain_hash(last.hash, content),
            )
        ]
    )
    assert (
        broken()
        == "entry 6: not recorded by the chain head, which ends at 5 (added outside gallra)"
    )


def test_missing_head(five):
    ChainHead.objects.all().delete()
    assert broken() == "evidence: the chain head row is missing"


def test_each_check_is_recorded_for_the_front_page(five):
    run()
    last = Entry.objects.order_by("-seq").first()
    assert (last.seq, last.action, last.count) == (6, "evidence_verified", 5)
    assert last.data == {"ok": True, "bad_seq": None, "problem": ""}
    Entry.objects.filter(seq=3).update(count=99)
    broken()
    last = Entry.objects.order_by("-seq").first()
    assert (last.seq, last.action, last.data["ok"], last.data["bad_seq"]) == (
        7,
        "evidence_verified",
        False,
        3,
    )
    assert last.refs == [] and last.customers == ""
