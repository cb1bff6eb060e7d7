"""The evidence log ends under its own rule too: its oldest entries go from the start, the
anchor keeps the rest checkable, `verify` says what was pruned and still catches any edit of
what is kept, and a log that does not verify is not pruned (that would hide the break)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gallra.evidence.log import PRUNED, append, verify
from gallra.evidence.models import Anchor, Entry
from gallra.policy.loading import current_policy
from gallra.retention import stores

DAY = date(2014, 3, 10)
NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


def late(day: date) -> datetime:
    return datetime.combine(day, time(23, 30), timezone.get_default_timezone())


@pytest.fixture
def log(db):
    """Entries 1-5; entry 4 is older than entry 3, so it goes only when 3 does."""
    made = [
        late(date(2013, 5, 1)),
        late(DAY),
        late(DAY + timedelta(days=1)),
        late(date(2014, 1, 1)),
        late(date(2020, 1, 1)),
    ]
    for n, at in enumerate(made, start=1):
        append(
            "delete",
            actor="enforce",
            at=at,
            rule="customer-data-after-relationship",
            record_type="person",
            refs=[f"P-{n}"],
            customers=[f"C-{n}"],
            data={"per_customer": {f"C-{n}": 1}},
        )


def prune(at: date, now: datetime = NOW, dry_run: bool = False) -> dict:
    store = next(s for s in stores.stores() if s.id == "evidence")
    return store.enforce(current_policy(), at, actor="enforce", now=lambda: now, dry_run=dry_run)


def kept() -> list[int]:
    return list(Entry.objects.order_by("seq").values_list("seq", flat=True))


def verified(*args: str) -> str:
    out = io.StringIO()
    call_command("evidence", "verify", *args, stdout=out)
    return out.getvalue()


def test_entries_go_on_their_due_day_from_the_start_with_an_entry_of_their_own(log):
    rule = current_policy().own_data_rule("evidence")
    due = rule.due_date(DAY)  # entry 2's

    assert prune(due - timedelta(days=1), dry_run=True)["deleted"] == 1
    assert kept() == [1, 2, 3, 4, 5]
    assert prune(due - timedelta(days=1))["deleted"] == 1
    assert kept() == [2, 3, 4, 5, 6]
    assert prune(due)["deleted"] == 1
    assert kept() == [3, 4, 5, 6, 7]
    # Entry 4 is old enough, but entry 3 before it is not: the log stays one chain.
    assert prune(due + timedelta(days=1))["deleted"] == 2
    assert kept() == [5, 6, 7, 8]

    last = Entry.objects.get(seq=8)
    assert (last.action, last.record_type, last.rule, last.count) == ("delete", PRUNED, rule.id, 2)
    assert last.data["through_seq"] == 4 and last.refs == [] and last.customers == ""
    anchor = Anchor.objects.get()
    assert (anchor.seq, anchor.hash, anchor.rule) == (4, last.data["through_hash"], rule.id)


def test_verify_checks_from_the_anchor_and_says_what_was_pruned(log):
    rule = current_policy().own_data_rule("evidence")
    prune(rule.due_date(DAY))
    result = verify()
    assert result.ok and result.count == 4  # entries 3, 4, 5 and the pruning's own
    assert result.pruned == {
        "through_seq": 2,
        "rule": "evidence-log",
        "on": "2024-03-10",
        "before": "2014-03-11",
    }
    assert verified().splitlines()[1] == (
        "entries up to 2 (made before 2014-03-11) were pruned under rule evidence-log on "
        "2024-03-10; the kept entries are checked from its hash on"
    )


def test_an_edit_of_a_kept_entry_is_still_caught(log):
    prune(current_policy().own_data_rule("evidence").due_date(DAY))
    Entry.objects.filter(seq=4).update(count=99)
    result = verify()
    assert (result.ok, result.bad_seq) == (False, 4)
    with pytest.raises(CommandError, match="entry 4: content does not match its hash"):
        verified()


def test_removing_more_from_the_start_is_caught_even_with_the_anchor_moved(log):
    prune(current_policy().own_data_rule("evidence").due_date(DAY))
    third = Entry.objects.get(seq=3)
    Entry.objects.filter(seq=3)._raw_delete("default")
    assert (verify().ok, verify().bad_seq) == (False, 3)  # the anchor points at entry 2

    Anchor.objects.filter(pk=1).update(seq=3, hash=third.hash)
    result = verify()
    assert not result.ok
    assert "not where the last pruning left it" in result.problem


def test_a_log_that_does_not_verify_is_not_pruned(log):
    Entry.objects.filter(seq=1).update(count=99)
    part = prune(current_policy().own_data_rule("evidence").due_date(DAY))
    assert part["deleted"] == 0
    assert part["problems"] == [
        "the evidence log was not pruned: entry 1: content does not match its hash (altered)"
    ]
    assert kept() == [1, 2, 3, 4, 5] and not Anchor.objects.exists()


def test_never_ahead_of_the_real_day(log):
    """`enforce --at 2040-01-01` as a rehearsal: the log is pruned as of today only."""
    today = current_policy().own_data_rule("evidence").due_date(DAY)
    real_now = datetime.combine(today, time(12), timezone.get_default_timezone())
    assert prune(date(2040, 1, 1), now=real_now)["deleted"] == 2
    assert kept() == [3, 4, 5, 6]


def test_a_whole_old_log_goes_and_its_pruning_starts_the_new_one(db):
    append("delete", actor="enforce", at=late(date(2010, 1, 1)), record_type="person", refs=["P"])
    assert prune(date(2024, 1, 1))["deleted"] == 1
    assert kept() == [2]
    assert verify().ok


def test_a_certificate_says_the_evidence_before_then_was_pruned(log):
    prune(current_policy().own_data_rule("evidence").due_date(DAY))
    with pytest.raises(CommandError) as gone:
        call_command("evidence", "certificate", "C-1", stdout=io.StringIO())
    assert str(gone.value) == (
        "no customer 'C-1' in gallra or its evidence (its entries made before 2014-03-11 were "
        "pruned under rule evidence-log on 2024-03-10)"
    )
    out = io.StringIO()
    call_command("evidence", "certificate", "C-5", "--lang", "en", stdout=out)
    assert "2020-01-01  1 " in out.getvalue()
    assert (
        "The evidence log's entries up to 2 (made before 2014-03-11) were pruned under rule "
        "evidence-log on 2024-03-10: deletions before then are not shown here."
    ) in out.getvalue()
