"""A master key rotation rewraps the months' pseudonym keys too: names keep their pseudonyms,
and the old master key is dropped only once nothing is wrapped by it any more."""

import json
from datetime import UTC, date, datetime
from io import StringIO

from django.core.management import call_command

from gallra import config
from gallra.logins.ingest import ingest_files
from gallra.logins.models import LoginEvent, MonthKey
from gallra.logins.sealing import pseudonym_for
from gallra.logins.tests.test_ingest_logins import lines, write
from gallra.registry import crypto

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NOVEMBER = date(2026, 11, 1)


def named(name: str, text_lines: list[str]) -> int:
    """How many of the lines try the user name `name`."""
    return sum(f" {name} " in line for line in text_lines)


def status() -> dict:
    out = StringIO()
    call_command("keys", "status", "--format", "json", stdout=out)
    return json.loads(out.getvalue())


def retired_in_key_file(settings) -> list[str]:
    return json.loads(settings.GALLRA_KEY_FILE.read_text()).get("retired_master_keys", [])


def test_rotation_rewraps_the_month_keys_and_keeps_the_pseudonyms(
    shares, policy, accounts, tmp_path, settings
):
    log = tmp_path / "auth.log"
    write(log, lines(8))  # unknown user names: November 2026 gets its pseudonym key
    assert ingest_files([log], policy, now=NOW).events == 8
    before = pseudonym_for(NOVEMBER, "Sommar2026!")
    assert before and LoginEvent.objects.filter(pseudonym=before).exists()

    out = StringIO()
    call_command("keys", "rotate", stdout=out)
    new_master = crypto.master_id(settings.GALLRA_KEYS.master_key)
    # The customer's key (the accounts' customer) and the month's key, both counted.
    assert f"master key {new_master}: 2 keys rewrapped" in out.getvalue()
    assert f"{new_master} (current): 1 customer key, 1 login pseudonym key" in out.getvalue()
    assert set(MonthKey.objects.values_list("master", flat=True)) == {new_master}
    assert status()["wrapped"]["login_month_keys"] == {new_master: 1}

    # A new run (a new process: nothing cached) reads the rewrapped key of the month.
    write(log, lines(8, start=8), mode="a")
    assert ingest_files([log], policy, now=NOW).events == 8
    assert pseudonym_for(NOVEMBER, "Sommar2026!") == before
    seen = named("Sommar2026!", lines(16))
    assert seen > named("Sommar2026!", lines(8))
    assert LoginEvent.objects.filter(pseudonym=before).count() == seen

    call_command("keys", "drop-retired", stdout=StringIO())
    assert retired_in_key_file(settings) == []
    write(log, lines(8, start=16), mode="a")
    assert ingest_files([log], policy, now=NOW).events == 8
    assert pseudonym_for(NOVEMBER, "Sommar2026!") == before


def test_a_retired_master_key_that_still_wraps_a_month_key_is_kept(
    shares, policy, accounts, tmp_path, settings
):
    old_keys = settings.GALLRA_KEYS  # what a process started before the rotation holds
    old_master = crypto.master_id(old_keys.master_key)
    call_command("keys", "rotate", stdout=StringIO())
    new_keys = settings.GALLRA_KEYS

    # The old process makes a month's key under its own, now retired, master key ...
    settings.GALLRA_KEYS = old_keys
    log = tmp_path / "auth.log"
    write(log, lines(8))
    assert ingest_files([log], policy, now=NOW).events == 8
    assert MonthKey.objects.get().master == old_master
    before = pseudonym_for(NOVEMBER, "Sommar2026!")

    # ... which the new process opens (it reads the key file again), and counts.
    settings.GALLRA_KEYS = new_keys
    assert pseudonym_for(NOVEMBER, "Sommar2026!") == before
    assert status()["wrapped"]["login_month_keys"] == {old_master: 1}
    out = StringIO()
    call_command("keys", "drop-retired", stdout=out)
    assert len(retired_in_key_file(settings)) == 1  # still needed: kept
    assert "1 still in use" in out.getvalue()

    # A rerun of rotate rewraps it (and makes no new master key); then it can go.
    out = StringIO()
    call_command("keys", "rotate", stdout=out)
    assert "1 key rewrapped" in out.getvalue()
    assert crypto.master_id(settings.GALLRA_KEYS.master_key) == crypto.master_id(
        new_keys.master_key
    )
    call_command("keys", "drop-retired", stdout=StringIO())
    assert retired_in_key_file(settings) == []
    settings.GALLRA_KEYS = config.load_keys(settings.GALLRA_KEY_FILE)
    assert pseudonym_for(NOVEMBER, "Sommar2026!") == before
    write(log, lines(4, start=8), mode="a")
    assert ingest_files([log], policy, now=NOW).events == 4
