"""Accounts from the servers (issue 17, item 3): `gallra sync` against a real slapd and a
passwd file. An account removed from the directory is closed on the day it was first missed,
however late the next sync runs, and its person's data is gone a year later. A source that
cannot be read, or answers with nothing, closes nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Account, Person
from gallra.retention.enforcement import enforce
from gallra.sync.models import SourceAccount
from gallra.sync.tests.conftest import with_sources

D1, D2, D3 = date(2026, 1, 10), date(2026, 1, 12), date(2026, 1, 20)
YEAR_AFTER_D2 = date(2027, 1, 12)  # closed-account: P1Y from the day the account closed

REGISTRY = {
    "customers": [
        {
            "ref": "C-1",
            "name": "Kund AB",
            "agreements": [{"ref": "AG-1", "start": "2020-01-01"}],
            "people": [
                {
                    "ref": "P-anna",
                    "first_name": "Anna",
                    "last_name": "Berg",
                    "email": "anna@kund.example",
                    "roles": ["user"],
                },
                {
                    "ref": "P-bo",
                    "first_name": "Bo",
                    "last_name": "Ek",
                    "email": "bo@kund.example",
                    "roles": ["user"],
                },
            ],
            "accounts": [
                {"ref": "A-anna", "person": "P-anna", "username": "anna", "opened": "2021-01-01"},
                {"ref": "A-bo", "person": "P-bo", "username": "bo", "opened": "2021-01-01"},
            ],
        }
    ]
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def registry(db):
    import_document(REGISTRY)


def sync(*args: str) -> tuple[int, str, str]:
    """`gallra sync ARGS`: (exit status, stdout, stderr)."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("sync", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def closed(ref: str) -> date | None:
    return Account.objects.get(ref=ref).closed


def test_an_account_removed_from_ldap_is_closed_the_day_it_was_first_missed_and_goes_a_year_later(
    registry, slapd, tmp_path, monkeypatch
):
    with_sources(tmp_path, monkeypatch, slapd.source())
    slapd.add("anna", 1001)
    slapd.add("bo", 1002)

    code, out, _ = sync("--at", D1.isoformat())
    assert code == 0, out
    assert closed("A-anna") is None and closed("A-bo") is None
    assert "2 accounts in the source, 2 in the registry" in out

    slapd.remove("bo")
    code, out, _ = sync("--at", D2.isoformat())
    assert code == 0
    assert closed("A-bo") == D2 and closed("A-anna") is None
    assert f"account A-bo (bo) closed as of {D2}" in out
    entry = Entry.objects.get(action="account_closed")
    assert entry.refs == ["A-bo"] and entry.data["closed"] == D2.isoformat()
    assert "bo" not in json.dumps(entry.data)  # the evidence names the ref, never the user

    code, out, _ = sync("--at", D3.isoformat())  # a week later: still closed as of D2
    assert code == 0 and closed("A-bo") == D2
    assert Entry.objects.filter(action="account_closed").count() == 1

    enforce(current_policy(), date(2027, 1, 11))  # the day before the year is out
    assert Account.objects.filter(ref="A-bo").exists()
    enforce(current_policy(), YEAR_AFTER_D2)
    assert not Account.objects.filter(ref="A-bo").exists()
    assert not Person.objects.filter(ref="P-bo").exists()  # a user and nothing else
    assert Account.objects.filter(ref="A-anna", closed=None).exists()
    assert not SourceAccount.objects.filter(account_ref="A-bo").exists()  # forgotten with it

    code, out, err = sync("--at", YEAR_AFTER_D2.isoformat())  # bo is gone everywhere: fine
    assert code == 0, err
    assert not Account.objects.filter(username="bo").exists()


def test_the_same_with_a_passwd_file(registry, tmp_path, monkeypatch):
    passwd = tmp_path / "passwd"
    lines = [
        "root:x:0:0:root:/root:/bin/bash",
        "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin",
        "anna:x:1001:1001:Anna Berg:/home/anna:/bin/bash",
        "bo:x:1002:1002:Bo Ek:/home/bo:/bin/bash",
        "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin",
    ]
    passwd.write_text("\n".join(lines) + "\n")
    with_sources(
        tmp_path, monkeypatch, f'[[source]]\nid = "web1"\nkind = "passwd"\npath = "{passwd}"\n'
    )
    code, out, _ = sync("--at", D1.isoformat())
    assert code == 0 and "2 accounts in the source, 2 in the registry" in out  # uids 1000-60000

    passwd.write_text("\n".join(line for line in lines if not line.startswith("bo:")) + "\n")
    assert sync("--at", D2.isoformat())[0] == 0
    assert sync("--at", D3.isoformat())[0] == 0
    assert closed("A-bo") == D2 and closed("A-anna") is None

    enforce(current_policy(), YEAR_AFTER_D2)
    assert not Person.objects.filter(ref="P-bo").exists()
    assert Person.objects.filter(ref="P-anna").exists()


def test_an_account_that_comes_back_is_opened_again_and_the_report_says_so(
    registry, slapd, tmp_path, monkeypatch
):
    with_sources(tmp_path, monkeypatch, slapd.source())
    slapd.add("anna", 1001)
    slapd.add("bo", 1002)
    sync("--at", D1.isoformat())
    slapd.remove("bo")
    sync("--at", D2.isoformat())
    assert closed("A-bo") == D2
    slapd.add("bo", 1002)
    code, out, _ = sync("--at", D3.isoformat())
    assert code == 0
    assert closed("A-bo") is None
    assert "account A-bo (bo) opened again: it is back in the source" in out
    assert Entry.objects.get(action="account_reopened").refs == ["A-bo"]
    slapd.remove("bo")  # gone again: closed as of the new first day it was missed
    sync("--at", "2026-02-01")
    assert closed("A-bo") == date(2026, 2, 1)


def test_accounts_the_registry_does_not_know_are_reported_not_invented(
    registry, slapd, tmp_path, monkeypatch
):
    with_sources(tmp_path, monkeypatch, slapd.source())
    slapd.add("anna", 1001)
    slapd.add("carl", 1003)
    code, out, _ = sync("--at", D1.isoformat())
    assert code == 0
    assert "not in the registry (no person to belong to; import them first): carl" in out
    assert not Account.objects.filter(username="carl").exists()
    assert closed("A-bo") is None  # never seen in this directory: not this source's to close


def test_an_account_closed_by_the_provider_is_left_as_it_is(registry, slapd, tmp_path, monkeypatch):
    Account.objects.filter(ref="A-anna").update(closed=date(2025, 12, 1))
    with_sources(tmp_path, monkeypatch, slapd.source())
    slapd.add("anna", 1001)
    code, out, _ = sync("--at", D1.isoformat())
    assert code == 0 and closed("A-anna") == date(2025, 12, 1)
    assert "closed in the registry but still in the source: anna" in out


def test_an_ldap_server_that_is_down_closes_nothing_and_fails(
    registry, slapd, tmp_path, monkeypatch
):
    with_sources(tmp_path, monkeypatch, slapd.source())
    slapd.add("anna", 1001)
    slapd.add("bo", 1002)
    assert sync("--at", D1.isoformat())[0] == 0
    remembered = list(SourceAccount.objects.order_by("pk").values_list())
    slapd.stop()
    code, out, err = sync("--at", D2.isoformat())
    assert code == 1
    assert f"source katalog (LDAP {slapd.url} ou=people," in err and "nothing changed" in err
    assert closed("A-anna") is None and closed("A-bo") is None
    assert list(SourceAccount.objects.order_by("pk").values_list()) == remembered
    assert not Entry.objects.filter(action="account_closed").exists()


def test_a_directory_that_answers_with_no_accounts_closes_nothing(
    registry, slapd, tmp_path, monkeypatch
):
    with_sources(tmp_path, monkeypatch, slapd.source())
    slapd.add("anna", 1001)
    slapd.add("bo", 1002)
    sync("--at", D1.isoformat())
    slapd.remove("anna")
    slapd.remove("bo")
    code, _, err = sync("--at", D2.isoformat())
    assert code == 1 and "answered with no accounts at all, while it held 2" in err
    assert closed("A-anna") is None and closed("A-bo") is None


def test_a_wrong_password_and_a_missing_password_file_are_named(
    registry, slapd, tmp_path, monkeypatch
):
    slapd.password_file.write_text("fel\n")
    with_sources(tmp_path, monkeypatch, slapd.source())
    code, _, err = sync("--at", D1.isoformat())
    assert code == 1 and "invalidCredentials" in err
    slapd.password_file.unlink()
    code, _, err = sync("--at", D1.isoformat())
    assert code == 1 and f"cannot read password_file {slapd.password_file}" in err


def test_a_passwd_file_that_cannot_be_read_or_is_garbled_closes_nothing(
    registry, tmp_path, monkeypatch
):
    passwd = tmp_path / "passwd"
    passwd.write_text("anna:x:1001:1001::/home/anna:/bin/bash\nbo:x:1002:1002::/home/bo:/bin/sh\n")
    with_sources(
        tmp_path, monkeypatch, f'[[source]]\nid = "web1"\nkind = "passwd"\npath = "{passwd}"\n'
    )
    assert sync("--at", D1.isoformat())[0] == 0
    passwd.write_text("anna:x:1001:1001::/home/anna:/bin/bash\n<html>502 Bad Gateway</html>\n")
    code, _, err = sync("--at", D2.isoformat())
    assert code == 1 and "line 2 is not a passwd entry" in err
    passwd.unlink()
    code, _, err = sync("--at", D2.isoformat())
    assert code == 1 and f"passwd file {passwd}): cannot read it" in err
    assert closed("A-bo") is None


def test_json_output_counts_and_names_the_changes(registry, slapd, tmp_path, monkeypatch):
    with_sources(tmp_path, monkeypatch, slapd.source())
    slapd.add("anna", 1001)
    slapd.add("bo", 1002)
    sync("--at", D1.isoformat())
    slapd.remove("bo")
    code, out, _ = sync("--at", D2.isoformat(), "--format", "json")
    assert code == 0
    result = json.loads(out)["sources"][0]
    assert result["outcome"] == "ok" and result["accounts"]["closed"] == 1
    assert result["accounts"]["closed_accounts"] == [
        {"ref": "A-bo", "username": "bo", "day": D2.isoformat()}
    ]
