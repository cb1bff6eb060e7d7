"""`gallra replay` (issue 17, item 5): a mailbox or dataset restored from the provider's own
backup gets back what gallra deleted; replaying carries every deletion out again, with evidence,
and twice changes nothing the second time."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.mailboxes.tests.conftest import maildir_mailbox, message, months_before, with_mailboxes
from gallra.retention.enforcement import enforce
from gallra.retention.replay import UnknownPlace, replay

AT = date(2026, 6, 15)
DELETED = datetime(2026, 6, 15, 1, tzinfo=UTC)  # the nightly run
NOW = datetime(2026, 6, 20, 9, tzinfo=UTC)


@pytest.fixture
def restored(db, maildir, tmp_path):
    """Four months old mail from an unknown sender goes on AT (P19); then the mailbox is put
    back from a copy taken the day before."""
    for n in (1, 2):
        maildir.add(
            message(f"old-{n}@test", months_before(AT, 4), "x@okand.example"), months_before(AT, 4)
        )
    maildir.add(message("new@test", months_before(AT, 1), "x@okand.example"), months_before(AT, 1))
    backup = tmp_path / "backup"
    shutil.copytree(maildir.root, backup)
    policy = with_mailboxes(maildir_mailbox(maildir))
    enforce(policy, AT, now=lambda: DELETED)
    assert maildir.message_ids() == {"new@test"}
    shutil.rmtree(maildir.root)
    shutil.copytree(backup, maildir.root)
    assert maildir.message_ids() == {"old-1@test", "old-2@test", "new@test"}
    return policy


def test_replay_deletes_again_what_a_restored_mailbox_brought_back(restored, maildir):
    done = replay(restored, "salj-maildir", AT - timedelta(days=1), actor="ops", now=NOW)
    assert (done.entries, done.reapplied, done.problems) == (1, 2, [])
    assert maildir.message_ids() == {"new@test"}
    first = Entry.objects.filter(action="delete", record_type="mail").order_by("seq")
    original, again = list(first)
    assert sorted(again.refs) == sorted(original.refs)
    assert again.data["replayed"]["seq"] == original.seq
    assert again.actor == "ops" and again.rule == original.rule
    summary = Entry.objects.get(action="replay")
    assert summary.data["store"] == "salj-maildir" and summary.data["entries"] == [original.seq]
    assert verify().ok


def test_a_second_replay_changes_nothing(restored, maildir):
    replay(restored, "salj-maildir", AT, actor="ops", now=NOW)
    again = replay(restored, "salj-maildir", AT, actor="ops", now=NOW)
    assert (again.entries, again.reapplied) == (1, 0)  # its own entries are not replayed
    assert Entry.objects.filter(action="delete", record_type="mail").count() == 2
    assert maildir.message_ids() == {"new@test"}


def test_since_a_day_after_the_deletion_replays_nothing(restored, maildir):
    late = replay(restored, "salj-maildir", NOW.date() + timedelta(days=1), actor="ops", now=NOW)
    assert (late.entries, late.reapplied) == (0, 0)
    assert maildir.message_ids() == {"old-1@test", "old-2@test", "new@test"}


def test_an_unreachable_mailbox_is_a_problem_and_changes_nothing(restored, maildir):
    shutil.rmtree(maildir.root)
    done = replay(restored, "salj-maildir", AT, actor="ops", now=NOW)
    assert done.reapplied == 0 and len(done.problems) == 1 and "salj-maildir" in done.problems[0]
    assert Entry.objects.filter(action="delete", data__replayed__isnull=False).count() == 0


def test_an_unknown_store_is_bad_usage(db):
    with pytest.raises(UnknownPlace):
        replay(with_mailboxes(), "nosuch", AT, actor="ops", now=NOW)
    with pytest.raises(CommandError) as refused:
        call_command("replay", "--store", "nosuch", "--since", "2026-06-01")
    assert refused.value.returncode == 2 and "nosuch" in str(refused.value)
    with pytest.raises(CommandError) as bad:
        call_command("replay", "--store", "nosuch", "--since", "juni")
    assert bad.value.returncode == 2
