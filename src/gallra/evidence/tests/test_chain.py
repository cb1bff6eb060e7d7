"""Appending builds a chain whose hashes are what the design says, with no gaps in seq."""

import hashlib
import json
import re
import threading
from datetime import datetime, timedelta, timezone

import pytest
from django.db import connection, transaction

from gallra.evidence.log import append, verify
from gallra.evidence.models import GENESIS, ChainHead, Entry
from gallra.evidence.tests.conftest import START


def test_appending_builds_a_valid_chain(five):
    entries = list(Entry.objects.order_by("seq"))
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    for before, after in zip(entries, entries[1:], strict=False):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in entries}) == 5
    head = ChainHead.objects.get()
    assert (head.seq, head.hash) == (5, entries[-1].hash)
    result = verify()
    assert (result.ok, result.count, result.head, result.bad_seq) == (True, 5, head.hash, None)


def test_hash_is_sha256_of_prev_hash_and_canonical_json(db):
    stockholm = timezone(timedelta(hours=1))
    entry = append(
        "import",
        actor="import",
        at=datetime(2026, 3, 2, 0, 30, 0, 5, tzinfo=stockholm),
        refs=["C-1", "P-1"],
        customers=["C-1"],
        data={"b": 1, "a": ["x", None, True]},
    )
    content = {
        "seq": 1,
        "at": "2026-03-01T23:30:00.000005+00:00",
        "actor": "import",
        "action": "import",
        "rule": "",
        "record_type": "",
        "count": 2,
        "refs": ["C-1", "P-1"],
        "customers": "|C-1|",
        "data": {"a": ["x", None, True], "b": 1},
    }
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert entry.hash == hashlib.sha256(("0" * 64 + text).encode()).hexdigest()
    assert Entry.objects.get().hash == entry.hash


def test_stored_entry_hashes_the_same(five):
    for entry in Entry.objects.all():
        assert entry.compute_hash() == entry.hash


def test_count_defaults_to_refs_and_can_be_given(db):
    assert append("delete", actor="enforce", at=START, refs=["A", "B", "C"]).count == 3
    assert append("task_acknowledged", actor="staff:anna", at=START).count == 0
    assert append("delete", actor="enforce", at=START, count=1200).count == 1200


def test_customers_are_searchable(db):
    append("delete", actor="enforce", at=START, customers=["C-10", "C-1", "C-1"])
    append("delete", actor="enforce", at=START, customers=["C-2"])
    append("policy_changed", actor="staff:anna", at=START)
    entries = Entry.objects.order_by("seq")
    assert [e.customers for e in entries] == ["|C-1|C-10|", "|C-2|", ""]
    assert [e.seq for e in Entry.objects.filter(customers__contains="|C-1|")] == [1]
    assert entries[0].customer_refs == ["C-1", "C-10"] and entries[2].customer_refs == []


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"at": datetime(2026, 3, 1, 12, 0)}, ValueError, "evidence times must be timezone-aware"),
        ({"refs": "C-1"}, TypeError, "refs and customers are lists of refs, not a single string"),
        ({"customers": "C-1"}, TypeError, "refs and customers are lists of refs, not a single"),
        ({"refs": [1]}, TypeError, "a ref must be a non-empty string, not 1"),
        ({"customers": ["C|1"]}, ValueError, "a customer ref cannot contain '|'"),
        ({"data": {"share": 0.5}}, TypeError, "data.share: float is not allowed (use a string)"),
        ({"data": {1: "x"}}, TypeError, "data: keys must be strings"),
        ({"data": {"when": START}}, TypeError, "data.when: datetime is not allowed"),
        ({"actor": ""}, ValueError, "actor and action are required"),
        ({"action": "x" * 51}, ValueError, "action must be a string of at most 50 characters"),
        ({"count": -1}, ValueError, "count must be a whole number, zero or more"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(db, kwargs, error, message):
    """Each refusal is the one meant, with its message: a TypeError from a bug does not pass."""
    kwargs = {"action": "delete", "actor": "enforce", "at": START, **kwargs}
    with pytest.raises(error, match=re.escape(message)):
        append(kwargs.pop("action"), **kwargs)
    assert not Entry.objects.exists()


def test_entries_cannot_be_changed_or_deleted_through_the_model(five):
    entry = Entry.objects.get(seq=2)
    entry.count = 0
    with pytest.raises(ValueError, match="^evidence entries cannot be changed$"):
        entry.save()
    with pytest.raises(ValueError, match="^evidence entries cannot be deleted$"):
        entry.delete()


def test_empty_log_verifies(db):
    assert verify().as_dict() == {
        "ok": True,
        "count": 0,
        "head": GENESIS,
        "bad_seq": None,
        "problem": "",
        "pruned": None,
    }


@pytest.mark.django_db(transaction=True)
def test_separate_transactions_keep_seq_contiguous():
    with transaction.atomic():
        append("delete", actor="enforce", at=START, refs=["P-1"])
    # A failed piece of work takes its entry with it, and leaves no gap behind.
    with pytest.raises(RuntimeError, match="the deletion failed"), transaction.atomic():
        append("delete", actor="enforce", at=START, refs=["P-2"])
        raise RuntimeError("the deletion failed")
    with transaction.atomic():
        append("delete", actor="enforce", at=START, refs=["P-3"])
    append("export", actor="staff:anna", at=START)  # its own transaction
    assert [(e.seq, e.refs) for e in Entry.objects.order_by("seq")] == [
        (1, ["P-1"]),
        (2, ["P-3"]),
        (3, []),
    ]
    assert ChainHead.objects.get().seq == 3
    assert verify().ok


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's shared in-memory test database"
)
def test_concurrent_appenders_keep_seq_contiguous():
    errors = []

    def work(worker: int) -> None:
        try:
            for i in range(10):
                with transaction.atomic():
                    append("delete", actor=f"worker-{worker}", at=START, refs=[f"R-{i}"])
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert list(Entry.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 41))
    assert verify().ok


def test_append_refuses_when_the_head_row_is_gone(five):
    ChainHead.objects.all().delete()
    with pytest.raises(RuntimeError, match="chain head is missing"):
        append("delete", actor="enforce", at=START)
