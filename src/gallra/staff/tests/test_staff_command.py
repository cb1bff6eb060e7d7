"""`gallra staff password USER`: a new password, asked twice on the terminal, under the
password policy; and `gallra staff list --format json`."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from gallra.conftest import STAFF_PASSWORD
from gallra.evidence.models import Entry

pytestmark = pytest.mark.django_db

NEW = "Lingonsylt-på-fredag-17"


@pytest.fixture
def terminal(monkeypatch):
    """A terminal on which the user types `answers`, one per password prompt."""
    answers: list[str] = []
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda *_: answers.pop(0))
    return answers


def password(username: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("staff", "password", username, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue() + str(exc)
    return 0, out.getvalue(), err.getvalue()


def logs_in(username: str, secret: str) -> bool:
    return Client().login(username=username, password=secret)


def test_a_new_password_is_asked_twice_and_the_policy_applies(staff_member, terminal):
    staff_member("tekniker", "technician")
    terminal.extend(["kort", "kort", NEW, NEW])  # too short first: said why, asked again
    code, out, err = password("tekniker")
    assert code == 0, err
    assert "too short" in err and "changed" in out
    assert logs_in("tekniker", NEW) and not logs_in("tekniker", STAFF_PASSWORD)
    assert Entry.objects.filter(action="staff_password_set").count() == 1


def test_three_mismatches_change_nothing(staff_member, terminal):
    staff_member("tekniker", "technician")
    terminal.extend([NEW, NEW + "x"] * 3)
    code, _, err = password("tekniker")
    assert code == 1 and "after 3 tries" in err
    assert logs_in("tekniker", STAFF_PASSWORD)


def test_without_a_terminal_nothing_is_asked_or_changed(staff_member, monkeypatch):
    staff_member("tekniker", "technician")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    monkeypatch.setattr("getpass.getpass", lambda *_: pytest.fail("asked"))
    code, _, err = password("tekniker")
    assert code == 2 and "terminal" in err
    assert logs_in("tekniker", STAFF_PASSWORD)
    assert password("nobody")[0] == 1  # an unknown user is named, not prompted for


def test_the_staff_list_as_json(staff_member):
    staff_member("tekniker", "technician")
    out = io.StringIO()
    call_command("staff", "list", "--format", "json", stdout=out)
    rows = {r["username"]: r for r in json.loads(out.getvalue())}
    assert rows["tekniker"]["roles"] == ["technician"]
    assert rows["tekniker"]["two_factor"] is False and rows["tekniker"]["last_login"] is None
    assert get_user_model().objects.filter(is_staff=True).count() == len(rows)
