"""A daily run makes a keys snapshot only when the keys or the deletion journal changed, or
when the one there would leave the window: a restore always finds today's keys."""

from datetime import UTC, datetime, timedelta

import pytest

from gallra.backups import keys
from gallra.backups.runs import run_backup
from gallra.registry.models import Customer

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db(transaction=True)  # the online backup needs no open transaction


def day(policy, n: int) -> None:
    at = NOW + timedelta(days=n)
    run_backup(policy, now=at, at=at)


def backed_up() -> set[str]:
    return {k["customer_ref"] for k in keys.read_snapshot()["keys"]}


def test_unchanged_keys_are_not_snapshotted_again_but_never_outlive_the_window(repository, policy):
    Customer.objects.create(ref="C-1", name="Ett AB")
    day(policy, 0)
    [first] = keys.snapshots()
    day(policy, 1)
    assert [s["id"] for s in keys.snapshots()] == [first["id"]]  # the same keys: no new one

    Customer.objects.create(ref="C-2", name="Två AB")  # a new customer key
    day(policy, 2)
    assert len(keys.snapshots()) == 2
    assert backed_up() == {"C-1", "C-2"}

    day(policy, 10)  # the keys are those of day 2, but that snapshot is past the window
    [fresh] = keys.snapshots()
    assert fresh["at"] == NOW + timedelta(days=10)
    assert backed_up() == {"C-1", "C-2"}
