"""Stores: a new kind of store takes part in `enforce` and `plan` by registering, with no change
to the retention engine; a store's problems fail the run without stopping the registry's
deletions; the homes store ends grants before the accounts they name go."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.homes.models import AccessGrant
from gallra.logins.ingest import ingest_files
from gallra.logins.models import Escrow, LoginEvent
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Account, Agreement, Customer
from gallra.retention import stores
from gallra.retention.enforcement import enforce
from gallra.retention.planner import Decision

AT = date(2026, 1, 1)  # the customer's last agreement ended 2024-06-30: due from 2025-06-30


def registry() -> dict:
    """A customer that has ended (everything of it due on AT), and one still on."""

    def account(ref, person, username):
        return {"ref": ref, "person": person, "username": username, "opened": "2020-01-01"}

    def person(ref, first):
        return {"ref": ref, "first_name": first, "last_name": "Test", "roles": ["user"]}

    return {
        "customers": [
            {
                "ref": "C-GONE",
                "name": "Slutat AB",
                "agreements": [{"ref": "AG-GONE", "start": "2020-01-01", "end": "2024-06-30"}],
                "people": [person("P-1", "Sigrid"), person("P-2", "Sven")],
                "accounts": [account("A-1", "P-1", "sigrid"), account("A-2", "P-2", "sven")],
            },
            {
                "ref": "C-ON",
                "name": "Pågår AB",
                "agreements": [{"ref": "AG-ON", "start": "2020-01-01", "end": None}],
                "people": [person("P-3", "Per")],
                "accounts": [account("A-3", "P-3", "per")],
            },
        ]
    }


class Archive(stores.Store):
    """A kind of store retention has never heard of: an archive with one record due."""

    id = "archive"

    def __init__(self, problems: list[str] | None = None) -> None:
        self.calls: list[tuple[date, bool, bool]] = []  # (at, dry_run, customer still there)
        self.failing = problems or []

    def plan(self, policy, at, record_type=None):
        if record_type in (None, "archive_box"):
            yield Decision(
                "archive_box", "BOX-7", "delete", "archive-rule", date(2025, 1, 1), "due", {}
            )

    def enforce(self, policy, at, *, actor, now, dry_run=False):
        there = Customer.objects.filter(ref="C-GONE").exists()
        self.calls.append((at, dry_run, there))
        return {"boxes": 1, "problems": self.failing}

    def summary_lines(self, part, lang):
        return [f"  archive-rule: {part['boxes']} archive boxes"]

    def would_delete(self, part):
        return part["boxes"]


@pytest.fixture
def archive():
    store = stores.register(Archive())
    yield store
    stores.unregister(store.id)


@pytest.fixture
def armed(db, settings):
    settings.GALLRA_ENFORCE_ARMED = True  # an unattended install's arming (retention/arming.py)
    import_document(registry())


def run(command: str, *args: str) -> str:
    out = io.StringIO()
    call_command(
        command, "--at", AT.isoformat(), "--lang", "en", *args, stdout=out, stderr=io.StringIO()
    )
    return out.getvalue()


def test_a_new_store_takes_part_in_enforce_and_plan_by_registering(armed, archive):
    assert [s.id for s in stores.stores()] == [
        "datasets",  # before the registry: owners as the registry judges them that day
        "homes",
        "logins",
        "mail",
        *("subject_requests", "form_tokens", "consent_proofs", "web_event_marks"),
        *("staff_login_failures", "api_event_marks", "outbox"),  # gallra's own data (own.py)
        "deletion_memory",
        "archive",
        "evidence",  # last: the evidence log's own rule
    ]

    planned = json.loads(run("plan", "--format", "json"))
    assert {
        "type": "archive_box",
        "ref": "BOX-7",
        "rule": "archive-rule",
        "due": "2025-01-01",
        "action": "delete",
    } in planned
    assert {
        "type": "customer",
        "ref": "C-GONE",
        "rule": "customer-data-after-relationship",
        "due": "2025-06-30",
        "action": "delete",
    } in planned  # the registry's, as before
    text = run("plan")
    assert "delete   archive_box BOX-7 (archive-rule, due since 2025-01-01)" in text
    assert "archive-rule: 1 archive_box" in text

    dry = run("enforce", "--dry-run")
    assert "  archive-rule: 1 archive boxes" in dry.splitlines()
    assert archive.calls == [(AT, True, True)]  # a dry run asks the store, and deletes nothing
    assert Customer.objects.filter(ref="C-GONE").exists()

    [summary] = json.loads(run("enforce", "--format", "json"))
    assert summary["archive"] == {"boxes": 1, "problems": []}
    assert summary["logins"]["rule"] == "login-logs" and summary["mail"] == {}
    assert archive.calls[1] == (AT, False, False)  # once, after the registry's deletions
    assert len(archive.calls) == 2
    assert not Customer.objects.filter(ref="C-GONE").exists()

    import_document(registry())  # the customer again, due again
    text = run("enforce")
    assert "  archive-rule: 1 archive boxes" in text.splitlines()
    assert "Enforcement for 2026-01-01: " in text


def test_a_store_that_is_not_armed_is_left_alone_and_counted(db, archive):
    import_document(registry())
    with pytest.raises(CommandError) as failed:
        run("enforce")
    assert failed.value.returncode == 1
    assert archive.calls == [(AT, True, True)]  # only the dry run of the notice
    [skipped] = Entry.objects.filter(action="enforcement_skipped")
    registry_count = sum(skipped.data["would_delete"]["by_rule"].values())
    assert skipped.count == registry_count + 1  # the archive's box among what would go


def test_a_store_with_problems_fails_the_run_after_the_registry_is_done(armed):
    store = stores.register(Archive(problems=["archive server not reached"]))
    try:
        with pytest.raises(CommandError) as failed:
            run("enforce", "--format", "json")
    finally:
        stores.unregister(store.id)
    assert failed.value.returncode == 1
    assert "archive server not reached" in str(failed.value)
    assert not Customer.objects.filter(ref="C-GONE").exists()  # the registry's deletions stand
    assert not Account.objects.filter(ref__in=["A-1", "A-2"]).exists()
    assert Entry.objects.filter(action="delete", record_type="customer").count() == 1
    assert Entry.objects.filter(action="enforce_finished").count() == 1
    assert verify().ok


def test_the_homes_store_ends_a_grant_before_the_account_it_names_goes(armed):
    AccessGrant.objects.create(
        owner=Account.objects.get(ref="A-1"),
        grantee=Account.objects.get(ref="A-2"),
        agreement=Agreement.objects.get(ref="AG-GONE"),
        until=date(2030, 1, 1),
        grantee_uid=20002,
    )
    assert "  1 access grant would end (P3)" in run("enforce", "--dry-run").splitlines()
    assert "  1 åtkomstmedgivande skulle upphöra (P3)" in run(
        "enforce", "--dry-run", "--lang", "sv"
    )
    assert AccessGrant.objects.exists()
    assert "  1 access grant ended (P3)" in run("enforce").splitlines()
    assert not AccessGrant.objects.exists()
    assert not Account.objects.filter(ref__in=["A-1", "A-2"]).exists()
    removed = Entry.objects.get(action="homes.grant_removed")
    assert removed.refs == ["A-1", "A-2"] and removed.data["why"] == "agreement_ended"
    account_deleted = Entry.objects.get(action="delete", record_type="account")
    assert removed.seq < account_deleted.seq  # the grant's evidence before the account's
    assert Account.objects.filter(ref="A-3").exists()
    assert verify().ok


def test_an_account_deleted_by_enforce_stays_in_its_login_events_only_as_a_pseudonym(
    armed, tmp_path
):
    """logins hears of the deletion through retention's signal, in the batch's transaction."""
    Escrow.make(3, 2, datetime(2025, 12, 20, tzinfo=UTC))
    auth = tmp_path / "auth.log"
    auth.write_text(
        "Dec 10 2025 12:00:00 web1 sshd[1]: Accepted password for sigrid from 81.234.5.6 "
        "port 1 ssh2\n"
        "Dec 11 2025 12:00:00 web1 sshd[2]: Accepted password for per from 81.234.5.7 "
        "port 1 ssh2\n"
    )
    ingest_files([auth], current_policy(), now=datetime(2025, 12, 20, tzinfo=UTC))
    assert set(LoginEvent.objects.values_list("account", flat=True)) == {"sigrid", "per"}

    [summary] = enforce(current_policy(), AT)
    assert not Account.objects.filter(username="sigrid").exists()
    assert summary.logins["deleted"] == 0  # the events stay for their own rule (P12M)
    assert LoginEvent.objects.count() == 2
    sigrid = LoginEvent.objects.exclude(account="per").get()
    assert sigrid.account == "" and sigrid.pseudonym  # the name only as the month's pseudonym
    assert LoginEvent.objects.filter(account="per").count() == 1  # still an account: kept
