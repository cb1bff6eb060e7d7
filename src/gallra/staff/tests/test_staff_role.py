"""`gallra staff role USER ROLE...`: a staff member's roles replaced by the policy's roles
named, groups made by hand kept, recorded in the evidence log; an unknown role or user
changes nothing and exits 2. `gallra staff add` for someone who exists points there."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.staff import roles

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(db):
    roles.sync(current_policy())
    user = User.objects.create_user("anna", "anna@redcloud.example", is_staff=True)
    user.groups.add(Group.objects.get(name="technician"), Group.objects.create(name="revisor"))
    return user


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("staff", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


def names(user) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_a_role_change_replaces_the_role_groups_and_is_recorded(anna):
    code, out = run("role", "anna", "sales", "finance")
    assert code == 0
    assert "anna: roles finance, sales (were: technician)" in out
    assert names(anna) == ["finance", "revisor", "sales"]  # the hand-made group stays
    assert anna.has_perm("registry.view_personal_data")  # sales may, technician may not
    entry = Entry.objects.get(action="staff_role_set")
    assert entry.refs == [f"staff:{anna.pk}"]
    assert entry.data == {"roles": ["finance", "sales"], "before": ["technician"]}
    assert run("role", "anna", "ceo")[0] == 0
    assert names(anna) == ["ceo", "revisor"]


@pytest.mark.parametrize(
    "args",
    [
        ("role", "anna", "vd"),
        ("role", "anna", "sales", "Sales"),
        ("role", "anna", "ceo; DROP TABLE auth_group"),
        ("role", "anna", "revisor"),  # a group, but made by hand: no role of the policy
        ("role", "anna", ""),
    ],
)
def test_an_unknown_role_changes_nothing_and_lists_the_policys_roles(anna, args):
    code, message = run(*args)
    assert code == 2
    assert "unknown role" in message and "nothing changed" in message
    assert "board, ceo, finance, sales, technician" in message
    assert names(anna) == ["revisor", "technician"]
    assert not Entry.objects.filter(action="staff_role_set").exists()


@pytest.mark.parametrize("username", ["nobody", "ANNA", "anna ", "../anna", "anna'--"])
def test_an_unknown_user_changes_nothing(anna, username):
    code, message = run("role", username, "sales")
    assert code == 2
    assert f"no staff user {username!r}" in message and "nothing changed" in message
    assert names(anna) == ["revisor", "technician"]
    assert not Entry.objects.filter(action="staff_role_set").exists()


def test_no_role_at_all_is_bad_usage(anna):
    code, message = run("role", "anna")
    assert code != 0 and "required" in message  # argparse: exit 2 from the shell
    assert names(anna) == ["revisor", "technician"]


def test_adding_someone_who_exists_points_to_staff_role(anna):
    code, message = run("add", "anna", "--role", "sales")
    assert code == 1
    assert "exists already" in message and "gallra staff role anna ROLE" in message
    assert names(anna) == ["revisor", "technician"]
