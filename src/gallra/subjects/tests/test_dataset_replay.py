"""After the provider restores its billing database from a `pg_dump` taken before an erasure,
`gallra replay` carries the erasure out again: the subject is absent, and the evidence says what
was replayed (issue 17, item 5)."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.subjects import cases, erasure
from gallra.subjects.identity import Identity
from gallra.subjects.tests.conftest import ANNA, BO, NOW

AT = NOW.date()


def pg(connected, *argv: str) -> None:
    url = connected.urls["shop"]
    database = url.rsplit("/", 1)[1]
    subprocess.run(  # noqa: S603 (the PostgreSQL client tools, fixed arguments)
        [*argv, "-h", "127.0.0.1", "-U", "postgres", "-d", database],
        check=True,
        capture_output=True,
    )


@pytest.fixture
def restored(connected, registry, tmp_path):
    """A dump of the shop on the morning of the erasure; Anna erased; the dump restored."""
    dump = tmp_path / "shop.dump"
    pg(connected, "pg_dump", "-Fc", "-f", str(dump))
    request = cases.open_request(
        "erasure",
        Identity.of(ANNA["email"], ANNA["name"], personnummer=ANNA["pnr"]),
        received=AT,
        now=NOW,
        actor="test",
    )
    cases.verify_by_staff(request, "called back on the number on record", "anna.staff", now=NOW)
    erasure.erase_request(current_policy(), request, now=NOW, at=AT, actor="test")
    assert set(connected.rows("shop", "customers")) == {2}
    pg(connected, "pg_restore", "--clean", "--if-exists", "--single-transaction", str(dump))
    assert set(connected.rows("shop", "customers")) == {1, 2}  # Anna is back
    return request


def test_replay_erases_the_restored_subject_again_with_evidence(connected, restored, capsys):
    before = connected.snapshot()
    with translation.override("sv"):  # every command speaks Swedish unless told otherwise
        call_command("replay", "--store", "shop", "--since", AT.isoformat(), "--actor", "ops")
    after = connected.snapshot()
    assert set(after["shop", "customers"]) == {2}
    for order in (10, 11):
        assert after["shop", "orders"][order]["delivery_name"] == "[raderad]"
        assert after["shop", "orders"][order]["delivery_address"] is None
        assert after["shop", "orders"][order]["customer_id"] is None
    for line in (100, 101, 110):
        assert after["shop", "order_lines"][line]["gift_message"] is None
    assert after["shop", "invoices"] == before["shop", "invoices"]  # kept by law, untouched
    assert after["shop", "customers"][2] == before["shop", "customers"][2]  # Bo, as he was
    assert after["shop", "orders"][20] == before["shop", "orders"][20]
    text = repr(after[("shop", "customers")]) + repr(after[("shop", "orders")])
    assert ANNA["email"] not in text and ANNA["name"] not in text and BO["email"] in text

    original = Entry.objects.exclude(data__has_key="replayed").get(
        action="subject.erase", data__store="shop"
    )
    again = Entry.objects.get(action="subject.erase", data__store="shop", actor="ops")
    assert again.data["replayed"]["seq"] == original.seq
    assert again.data["request"] == restored.ref
    assert {"shop:customers:1", "shop:orders:10", "shop:order_lines:100"} <= set(again.refs)
    assert "shop:invoices:1000" not in again.refs
    replay = Entry.objects.get(action="replay")
    assert replay.data["store"] == "shop" and replay.data["entries"] == [original.seq]
    assert replay.count == len(again.refs)
    assert verify().ok
    said = capsys.readouterr().out
    assert said.startswith("shop: 1 deletion or erasure recorded since 2026-03-02")
    assert f"{replay.count} rows or messages removed again" in said


def test_a_second_replay_changes_nothing(connected, restored):
    call_command("replay", "--store", "shop", "--since", AT.isoformat())
    first = connected.snapshot()
    call_command("replay", "--store", "shop", "--since", AT.isoformat())
    assert connected.snapshot() == first
    assert Entry.objects.filter(action="replay").order_by("seq").last().count == 0


def test_replay_from_after_the_erasure_leaves_the_restored_copy(connected, restored):
    later = (AT + timedelta(days=1)).isoformat()
    call_command("replay", "--store", "shop", "--since", later)
    assert set(connected.rows("shop", "customers")) == {1, 2}


def test_an_unreachable_dataset_fails_and_changes_nothing(connected, restored, monkeypatch):
    monkeypatch.setenv("GALLRA_TEST_SHOP_URL", "postgresql://postgres@127.0.0.1:1/nowhere")
    with pytest.raises(CommandError) as failed:
        call_command("replay", "--store", "shop", "--since", AT.isoformat())
    assert failed.value.returncode == 1 and "shop" in str(failed.value)
    assert not Entry.objects.filter(action="subject.erase", data__replayed__isnull=False)
