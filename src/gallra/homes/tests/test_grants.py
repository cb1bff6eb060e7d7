"""Access grants: exactly the grantee gets in, until the grant's end, and `enforce` takes the
access away when the date passes or the agreement ends; both users' exports show it; bad
input changes nothing."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.homes.models import AccessGrant
from gallra.homes.tests.conftest import ANNA, BO, CARL, acl_of, can, sh, today
from gallra.policy.loading import current_policy
from gallra.registry.models import Account, Agreement
from gallra.retention.enforcement import enforce
from gallra.subjects.export import build_zip, gather
from gallra.subjects.identity import Identity


def homes_cmd(*args: str) -> str:
    out = io.StringIO()
    call_command("homes", *args, stdout=out)
    return out.getvalue()


def grant(*extra: str, until=None) -> str:
    until = until or today() + timedelta(days=10)
    return homes_cmd("grant", "anna", "bo", "--agreement", "AG-1", "--until", str(until), *extra)


def test_a_grant_lets_exactly_the_grantee_in_until_it_expires(homes):
    anna = homes / "anna"
    assert not can(BO, "cat", str(anna / "notes.txt"))
    out = grant("--read-only")
    assert "G-" in out and "bo" in out and "read only" in out

    assert can(BO, "cat", str(anna / "notes.txt")) and can(BO, "ls", str(anna))
    assert not can(BO, "touch", str(anna / "from-bo.txt"))  # read only
    assert not can(CARL, "cat", str(anna / "notes.txt")) and not can(CARL, "ls", str(anna))
    assert not can(20099, "cat", str(anna / "readme.txt"))
    # What anna writes later is bo's to read too (the default entry), and nobody else's.
    sh("sh", "-c", f"echo later > {anna}/later.txt", uid=ANNA)
    assert can(BO, "cat", str(anna / "later.txt")) and not can(CARL, "cat", str(anna / "later.txt"))

    report = json.loads(homes_cmd("audit", str(homes), "--format", "json"))
    assert report["violations"] == []
    [allowed] = report["allowed"]
    assert allowed["grantee"] == "A-2" and allowed["owner"] == "A-1"
    assert "A-2" in homes_cmd("grants")

    # enforce on the grant's last day leaves it; the day after takes it away.
    made = AccessGrant.objects.get()
    enforce(current_policy(), made.until)
    assert can(BO, "cat", str(anna / "notes.txt"))
    enforce(current_policy(), made.until + timedelta(days=1))
    assert not AccessGrant.objects.exists()
    assert not can(BO, "cat", str(anna / "notes.txt")) and not can(BO, "ls", str(anna))
    assert can(ANNA, "cat", str(anna / "later.txt"))
    assert f"user:{BO}" not in acl_of(anna) and f"user:{BO}" not in acl_of(anna / "later.txt")
    removed = Entry.objects.get(action="homes.grant_removed")
    assert removed.data["why"] == "expired" and removed.data["acl_removed"] is True
    assert removed.refs == ["A-1", "A-2"]
    assert Entry.objects.get(action="homes.grant").data["agreement"] == "AG-1"
    assert json.loads(homes_cmd("audit", str(homes), "--format", "json"))["violations"] == []
    assert verify().ok


def test_enforce_ends_a_grant_when_its_agreement_ends(homes):
    grant()  # read and write, for ten days
    assert can(BO, "touch", str(homes / "anna" / "from-bo.txt"))
    end = today() + timedelta(days=3)  # the agreement is ended early
    Agreement.objects.filter(ref="AG-1").update(end=end)
    enforce(current_policy(), end)
    assert can(BO, "cat", str(homes / "anna" / "readme.txt"))
    enforce(current_policy(), end + timedelta(days=1))
    assert not can(BO, "cat", str(homes / "anna" / "readme.txt"))
    assert Entry.objects.get(action="homes.grant_removed").data["why"] == "agreement_ended"


def test_revoke_and_a_deleted_account_take_the_access_away(homes):
    grant()
    assert "revoked" in homes_cmd("revoke", "A-1", "A-2")
    assert not can(BO, "ls", str(homes / "anna"))
    grant()
    Account.objects.filter(ref="A-2").delete()  # as an erasure does
    assert not can(BO, "ls", str(homes / "anna"))
    whys = [e.data["why"] for e in Entry.objects.filter(action="homes.grant_removed")]
    assert whys == ["revoked", "record_deleted"]


def test_both_users_exports_and_the_admin_show_the_grant(homes, admin_client):
    grant("--read-only")
    at = today()
    policy = current_policy()
    for email, role in (("anna@kund.example", "access_for"), ("bo@kund.example", "access_to")):
        items = gather(policy, Identity.of(email), at)
        [item] = [i for i in items if i.table == "access_grant"]
        other = "bo" if role == "access_for" else "anna"
        assert item.values[role if role == "access_for" else "access_to_home_of"] == other
        assert item.values["agreement"] == "AG-1" and item.values["read_only"] is True
        archive = build_zip(policy, Identity.of(email), items, "DSR-T", timezone.now(), "en", at)
        with zipfile.ZipFile(io.BytesIO(archive)) as z:
            assert "access_grant" in z.read("data.json").decode()
            assert "access_grant" in z.read("index.html").decode()
    carl = gather(policy, Identity.of("carl@kund.example"), at)
    assert not [i for i in carl if i.table == "access_grant"]
    page = admin_client.get(reverse("admin:homes_accessgrant_changelist")).content.decode()
    assert "AG-1" in page and "anna" in page and "bo" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nobody", "bo", "--agreement", "AG-1"], "owner 'nobody': no account"),
        (["anna", "A-404", "--agreement", "AG-1"], "grantee 'A-404': no account"),
        (["anna", "bo", "--agreement", "AG-404"], "--agreement 'AG-404': no agreement"),
        (["anna", "bo", "--agreement", "AG-2"], "AG-2 is customer C-2's"),
        (["anna", "anna", "--agreement", "AG-1"], "same account"),
        (["anna", "bo", "--agreement", "AG-1", "--until", "2001-01-01"], "2001-01-01 is in the pa"),
        (["anna", "bo", "--agreement", "AG-1", "--until", "tomorrow"], "not a date"),
    ],
)
def test_bad_input_names_what_is_wrong_and_changes_nothing(homes, args, message):
    before = acl_of(homes / "anna")
    if "--until" not in args:
        args = [*args, "--until", str(today() + timedelta(days=5))]
    with pytest.raises(CommandError, match=message) as refused:
        homes_cmd("grant", *args)
    assert refused.value.returncode == 2
    assert not AccessGrant.objects.exists() and not Entry.objects.exists()
    assert acl_of(homes / "anna") == before


def test_a_second_grant_and_a_closed_account_are_refused(homes):
    grant()
    with pytest.raises(CommandError, match="already has access"):
        grant()
    Agreement.objects.filter(ref="AG-2").update(end=today() + timedelta(days=2))
    with pytest.raises(CommandError, match="is after agreement AG-2 ends"):
        homes_cmd(
            "grant",
            "carl",
            "anna",
            "--agreement",
            "AG-2",
            "--until",
            str(today() + timedelta(days=5)),
        )
    Account.objects.filter(ref="A-3").update(closed=today() - timedelta(days=1))
    with pytest.raises(CommandError, match="A-3 was closed on"):
        homes_cmd("grant", "carl", "anna", "--agreement", "AG-2", "--until", str(today()))
    with pytest.raises(CommandError, match="no access grant"):
        homes_cmd("revoke", "carl", "anna")
    assert AccessGrant.objects.count() == 1


def test_enforce_ends_the_grant_before_it_deletes_the_grantees_account(homes):
    grant()
    Account.objects.filter(ref="A-2").update(closed=today() - timedelta(days=800))
    enforce(current_policy(), today())  # the account is past the closed-account rule
    assert not Account.objects.filter(ref="A-2").exists() and not AccessGrant.objects.exists()
    assert not can(BO, "ls", str(homes / "anna"))
    assert Entry.objects.get(action="homes.grant_removed").data["why"] == "account_closed"


def test_a_grant_enforce_cannot_take_off_the_disk_is_left_to_the_audit(homes):
    made_until = today() + timedelta(days=10)
    grant(until=made_until)
    (homes / "anna").rename(homes / "anna.away")  # e.g. enforce runs where the homes are not
    enforce(current_policy(), made_until + timedelta(days=1))
    removed = Entry.objects.get(action="homes.grant_removed")
    assert removed.data["acl_removed"] is False and removed.data["problem"] == "home not found"
    assert not AccessGrant.objects.exists()
    (homes / "anna.away").rename(homes / "anna")
    assert can(BO, "cat", str(homes / "anna" / "readme.txt"))  # still on the disk
    report = json.loads(_audit(homes))
    assert {v["kind"] for v in report["violations"]} == {"acl", "default_acl"}
    homes_cmd("fix", str(homes))
    assert not can(BO, "ls", str(homes / "anna"))


def _audit(root) -> str:
    out = io.StringIO()
    with pytest.raises(CommandError) as found:
        call_command("homes", "audit", str(root), "--format", "json", stdout=out)
    assert found.value.returncode == 1
    return out.getvalue()
