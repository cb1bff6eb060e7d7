"""`enforce` decides once, but never deletes what is held, needed or gone when its turn comes."""

from datetime import date

import psycopg
import pytest
from django.db import connection

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Hold, Prospect
from gallra.retention.enforcement import LOCK_KEY, EnforcementBusy, enforce
from gallra.retention.models import EnforcementRun

AT = date(2026, 1, 1)


class Killed(Exception):
    pass


def prospects(n):
    return {
        "prospects": [
            {"ref": f"PR-{i}", "name": f"Prospekt {i}", "created": "2025-01-01"} for i in range(n)
        ]
    }


def kill_after_first_batch(done, total):
    raise Killed


def test_a_resumed_run_spares_what_was_held_since_it_decided(db):
    import_document(prospects(12))
    with pytest.raises(Killed):
        enforce(current_policy(), AT, batch=5, progress=kill_after_first_batch)
    assert Prospect.objects.count() == 7  # the first batch went
    Hold.objects.create(
        ref="H-late", target_type="prospect", target_ref="PR-11", reason="negotiation", until=None
    )
    Prospect.objects.filter(ref="PR-10").delete()  # someone deleted one by hand meanwhile
    (resumed, fresh) = enforce(current_policy(), AT, batch=5)
    assert resumed.resumed and sum(resumed.deleted.values()) == 5  # 5 before the kill
    assert list(Prospect.objects.values_list("ref", flat=True)) == ["PR-11"]
    assert Hold.objects.filter(ref="H-late").exists()  # an active hold is never removed
    skipped = Entry.objects.get(action="delete_skipped")
    assert sorted(skipped.refs) == ["PR-10", "PR-11"]
    deleted = [r for e in Entry.objects.filter(action="delete") for r in e.refs]
    assert sorted(deleted) == sorted(f"PR-{i}" for i in range(10))  # each once
    assert not EnforcementRun.objects.filter(finished__isnull=True).exists()
    assert verify().ok


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a second database session")
def test_a_second_enforce_refuses_while_one_runs(db):
    import_document(prospects(3))
    settings = connection.settings_dict
    other = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=connection.settings_dict["NAME"],
        autocommit=True,
    )
    try:
        other.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
        with pytest.raises(EnforcementBusy):
            enforce(current_policy(), AT)
        assert Prospect.objects.count() == 3
    finally:
        other.close()
    enforce(current_policy(), AT)
    assert Prospect.objects.count() == 0
