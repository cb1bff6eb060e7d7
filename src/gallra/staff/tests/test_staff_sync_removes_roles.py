"""Editing the policy's roles after `gallra init` is as good as before it: `gallra staff sync`
removes the groups of roles the policy no longer has (never a group made by hand), names
who loses one and who is left with none, and the superuser `admin` keeps working while the
accountable role changes name."""

from __future__ import annotations

import importlib
import io
import json
import re

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command

from gallra import config
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.staff import roles
from gallra.staff.models import RoleGroup

pytestmark = pytest.mark.django_db

# A second provider's own roles: VD (accountable), drift (operations), sälj (sales).
RENAMED = {"ceo": "vd", "technician": "drift", "sales": "salj", "finance": "vd"}


def provider_policy(tmp_path, monkeypatch) -> None:
    """JufCorp's policy with the roles vd, drift and salj instead of its five."""
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    for old in ("board", "finance"):
        text, n = re.subn(rf'\[\[role\]\]\nid = "{old}"\n(?:[^\n\[]+\n)*\n*', "", text)
        assert n == 1, old
    for old, new in RENAMED.items():
        assert f'"{old}"' in text, old
        text = text.replace(f'"{old}"', f'"{new}"')
    assert '"board"' not in text
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("GALLRA_POLICY", str(path))
    assert {r.id for r in current_policy().role} == {"vd", "drift", "salj"}


@pytest.fixture
def after_init(db):
    """What `gallra init` with JufCorp's policy left, and staff added since."""
    roles.sync(current_policy())
    admin = User.objects.create_superuser("admin", email="", password=None)
    admin.groups.add(Group.objects.get(name="ceo"))
    anna = User.objects.create_user("anna", "anna@redcloud.example", is_staff=True)
    anna.groups.add(*Group.objects.filter(name__in=["technician", "sales"]))
    bo = User.objects.create_user("bo", "bo@redcloud.example", is_staff=True)
    bo.groups.add(Group.objects.get(name="board"))
    # Made by hand in the admin: not gallra's, kept whatever the policy says.
    audit = Group.objects.create(name="revisor")
    audit.permissions.add(Permission.objects.get(codename="view_entry"))
    bo.groups.add(audit)
    return admin, anna, bo


def sync(*args: str) -> str:
    out = io.StringIO()
    call_command("staff", "sync", *args, stdout=out)
    return out.getvalue()


def test_sync_removes_the_old_role_groups_and_names_who_is_affected(
    after_init, tmp_path, monkeypatch
):
    admin, anna, bo = after_init
    provider_policy(tmp_path, monkeypatch)
    out = sync()

    groups = set(Group.objects.values_list("name", flat=True))
    assert groups == {"vd", "drift", "salj", "revisor"}  # the hand-made group stays
    assert "removed the group of role board, no longer in the policy: bo" in out
    assert "removed the group of role ceo, no longer in the policy: admin" in out
    assert "removed the group of role sales, no longer in the policy: anna" in out
    assert "removed the group of role finance, no longer in the policy: nobody was in it" in out
    assert "admin is now in no role: give one with `gallra staff role admin ROLE`" in out
    assert "(a superuser: may still do everything meanwhile)" in out
    assert "anna is now in no role" in out
    assert "bo is now in no role" in out  # "revisor" is no role
    assert "no active staff member is in the accountable role vd" in out
    assert list(bo.groups.values_list("name", flat=True)) == ["revisor"]

    removed = {e.data["role"]: e.refs for e in Entry.objects.filter(action="staff_role_removed")}
    assert removed == {
        "board": [f"staff:{bo.pk}"],
        "ceo": [f"staff:{admin.pk}"],
        "finance": [],
        "sales": [f"staff:{anna.pk}"],
        "technician": [f"staff:{anna.pk}"],
    }

    # The superuser keeps working throughout, and moves into the new accountable role.
    admin.refresh_from_db()
    assert admin.has_perm("registry.lift_legal_hold")
    call_command("staff", "role", "admin", "vd", stdout=io.StringIO())
    again = json.loads(sync("--format", "json"))
    assert again["removed"] == {} and again["accountable"] == ["admin"]
    assert {r["role"] for r in again["roles"]} == {"vd", "drift", "salj"}
    vd = set(Group.objects.get(name="vd").permissions.all())
    assert vd == set(Permission.objects.all())  # the accountable role may do everything


def test_a_group_made_by_hand_with_a_roles_old_name_is_left_alone(db, tmp_path, monkeypatch):
    Group.objects.create(name="board")  # before any sync: the provider's own
    roles.sync(current_policy())  # a policy role of that name: it becomes gallra's
    assert RoleGroup.objects.filter(group__name="board").exists()
    Group.objects.create(name="styrelse")
    provider_policy(tmp_path, monkeypatch)
    sync()
    assert set(Group.objects.values_list("name", flat=True)) == {"vd", "drift", "salj", "styrelse"}


def test_groups_of_an_instance_made_before_the_mark_are_recognised(db):
    """`gallra init` before this release made the groups without the mark: the migration
    marks those that hold what sync gives every role, and no group made by hand."""
    roles.sync(current_policy())
    RoleGroup.objects.all().delete()
    Group.objects.create(name="revisor").permissions.add(
        Permission.objects.get(codename="view_entry")
    )
    migration = importlib.import_module("gallra.staff.migrations.0002_rolegroup")
    migration.mark_role_groups(apps, None)
    marked = set(RoleGroup.objects.values_list("group__name", flat=True))
    assert marked == {r.id for r in current_policy().role}
