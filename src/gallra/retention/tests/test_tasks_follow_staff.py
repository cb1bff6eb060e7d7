"""Manual tasks follow the staff (P16): who joins, or takes the role, after a customer ended
gets the open tasks of their area; nobody gets one twice; `tasks remind` says why it mailed
nothing; a task nobody can receive is red on the front page, and `gallra check` names the
staff whose tasks no reminder reaches."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gallra import config
from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Customer
from gallra.retention.enforcement import enforce
from gallra.retention.models import ManualTask
from gallra.retention.tasks import create_tasks, follow_staff, unreachable
from gallra.staff import roles

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
AT = date(2026, 3, 1)


def ended(*refs: str, end: str = "2026-01-31") -> None:
    import_document(
        {
            "customers": [
                {
                    "ref": ref,
                    "name": f"{ref} AB",
                    "agreements": [{"ref": f"{ref}-A", "start": "2020-01-01", "end": end}],
                }
                for ref in refs
            ]
        }
    )


@pytest.fixture
def admin(db):
    """As `gallra init` leaves it: a superuser in the accountable role, with no e-mail."""
    roles.sync(current_policy())
    user = User.objects.create_superuser("admin", email="", password=None)
    user.groups.add(Group.objects.get(name="ceo"))
    return user


@pytest.fixture
def sales_rule(tmp_path, monkeypatch):
    """JufCorp's policy with the phone-contacts task given to the role `sales`."""
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    assert text.count('assign_to = "all_staff"') == 1
    path = tmp_path / "policy.toml"
    path.write_text(text.replace('assign_to = "all_staff"', 'assign_to = "sales"'), "utf-8")
    monkeypatch.setenv("GALLRA_POLICY", str(path))
    roles.sync(current_policy())
    return current_policy()


def staff(*args: str) -> str:
    out = io.StringIO()
    call_command("staff", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def tasks_of(username: str) -> set[str]:
    return set(
        ManualTask.objects.filter(assignee__username=username, done_at__isnull=True).values_list(
            "customer_ref", flat=True
        )
    )


def test_staff_added_later_get_the_open_tasks_of_all_staff(admin):
    ended("C-ended", "C-mine", "C-closed")
    anna = User.objects.create_user("anna", "anna@redcloud.example", is_staff=True)
    Customer.objects.get(ref="C-mine").staff.add(anna)
    assert create_tasks(current_policy(), AT, NOW) == 5  # admin, anna; anna; admin, anna
    # Both who had C-closed's said it is done: nothing left to hand out.
    ManualTask.objects.filter(customer_ref="C-closed").update(done_at=NOW)

    out = staff("add", "carl", "--role", "technician", "--email", "carl@redcloud.example")
    # Every active staff member answers for an all_staff task, unless the customer has its
    # own staff (C-mine: anna's); the closed one stays closed.
    assert tasks_of("carl") == {"C-ended"}
    assert "carl got 1 open manual task" in out
    task = ManualTask.objects.get(assignee__username="carl")
    assert task.due == date(2027, 1, 31) and task.what.startswith("Radera kundens kontakter")
    entry = Entry.objects.filter(action="task_created").latest("seq")
    assert entry.refs == ["C-ended"] and entry.data["assignees"] == ["carl"]
    assert entry.data["why"] == "staff_changed"

    count = ManualTask.objects.count()
    assert follow_staff(current_policy(), NOW) == {}  # never twice
    enforce(current_policy(), AT, now=lambda: NOW)
    assert ManualTask.objects.count() == count
    assert verify().ok


def test_a_role_assigned_task_goes_to_whoever_has_the_role_now(admin, sales_rule):
    ended("C-1")
    bo = User.objects.create_user("bo", "bo@redcloud.example", is_staff=True)
    bo.groups.add(Group.objects.get(name="sales"))
    create_tasks(sales_rule, AT, NOW)
    assert tasks_of("bo") == {"C-1"} and tasks_of("admin") == set()

    staff("add", "dora", "--role", "sales", "--email", "dora@redcloud.example")
    staff("add", "eve", "--role", "technician", "--email", "eve@redcloud.example")
    assert tasks_of("dora") == {"C-1"}
    assert tasks_of("eve") == set()  # not her area
    out = staff("role", "eve", "sales")  # given the role later: gets it now
    assert tasks_of("eve") == {"C-1"} and "eve got 1 open manual task" in out


def test_changing_a_role_moves_future_tasks(admin, sales_rule):
    ended("C-1")
    bo = User.objects.create_user("bo", "bo@redcloud.example", is_staff=True)
    carl = User.objects.create_user("carl", "carl@redcloud.example", is_staff=True)
    staff("role", "bo", "sales")
    create_tasks(sales_rule, AT, NOW)
    assert tasks_of("bo") == {"C-1"}

    staff("role", "bo", "technician")
    staff("role", "carl", "sales")
    assert tasks_of("carl") == {"C-1"}  # the open one: whoever answers for it now
    assert tasks_of("bo") == {"C-1"}  # his own stays his (the contacts may be on his phone)
    ended("C-2", end="2026-02-20")
    create_tasks(sales_rule, AT, NOW)
    assert tasks_of("carl") == {"C-1", "C-2"} and tasks_of("bo") == {"C-1"}
    assert list(bo.groups.values_list("name", flat=True)) == ["technician"]
    assert carl.manual_tasks.count() == 2


def test_enforce_hands_out_the_open_tasks_to_staff_made_elsewhere(admin):
    ended("C-ended")
    create_tasks(current_policy(), AT, NOW)
    User.objects.create_user("dan", "dan@redcloud.example", is_staff=True)  # e.g. in the admin
    User.objects.create_user("gone", "gone@redcloud.example", is_staff=True, is_active=False)
    enforce(current_policy(), AT, now=lambda: NOW)
    assert tasks_of("dan") == {"C-ended"} and tasks_of("gone") == set()


def remind(*args: str) -> str:
    out = io.StringIO()
    call_command("tasks", "remind", *args, stdout=out)
    return out.getvalue()


def test_remind_says_why_nothing_was_mailed(admin, smtp):
    ended("C-1", "C-2")
    out = remind("--at", "2027-01-20")
    assert "2 created, 0 reminders queued" in out
    assert "2 open tasks are not due within a week" in out and "2027-01-24" in out
    assert "2 open tasks not mailed: admin has no e-mail address" in out
    assert "gallra staff email admin ADDRESS" in out

    out = remind("--at", "2027-01-25")
    assert "0 reminders queued" in out and "admin has no e-mail address" in out
    found = json.loads(remind("--at", "2027-01-25", "--format", "json"))
    assert found["reminders_sent"] == 0
    assert found["not_mailed"] == [{"assignee": "admin", "tasks": 2, "left": False}]

    staff("email", "admin", "vd@redcloud.example")
    assert "2 reminders queued" in remind("--at", "2027-01-25")
    assert [to for to, _, _ in smtp.messages] == [["vd@redcloud.example"]] * 2
    out = remind("--at", "2027-01-25")
    assert "2 open tasks were reminded earlier today" in out and "not mailed" not in out

    admin.is_active = False  # admin left: the task stays open, and is not mailed
    admin.save()
    out = remind("--at", "2027-01-26")
    assert "2 open tasks not mailed: admin has left (inactive)" in out
    assert len(smtp.messages) == 2


def test_email_refuses_what_is_no_address_and_changes_nothing(admin):
    for bad in ("not-an-address", "a@b.se\nBcc: x@y.se", "", "a" * 250 + "@b.se"):
        with pytest.raises(CommandError) as caught:
            staff("email", "admin", bad)
        assert caught.value.returncode == 2 and "nothing changed" in str(caught.value)
    with pytest.raises(CommandError) as caught:
        staff("email", "nobody", "x@redcloud.example")
    assert caught.value.returncode == 2 and "'nobody'" in str(caught.value)
    admin.refresh_from_db()
    assert admin.email == "" and not Entry.objects.filter(action="staff_email_set").exists()
    staff("email", "admin", "vd@redcloud.example")
    assert Entry.objects.get(action="staff_email_set").refs == [f"staff:{admin.pk}"]


def test_a_task_nobody_can_receive_is_red_on_the_front_page(admin, client, sales_rule):
    ended("C-1", "C-2")
    create_tasks(current_policy(), AT, NOW)  # nobody has `sales`: no task at all
    [line] = unreachable(current_policy(), timezone.localdate())
    assert line.role == "sales" and line.refs == ["C-1", "C-2"]
    client.force_login(admin)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    tasks = page[page.index('id="dashboard-tasks"') :]
    tasks = tasks[: tasks.index("</section>")]
    assert "dashboard-unreachable" in tasks and "no active staff member has the role sales" in tasks

    bo = User.objects.create_user("bo", "", is_staff=True)  # the role, but no e-mail
    staff("role", "bo", "sales")
    create_tasks(current_policy(), AT, NOW)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "phone-contacts: the open tasks of 2 customers (C-1, C-2) reach no one" in page

    staff("email", "bo", "bo@redcloud.example")
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "dashboard-unreachable" not in page and "reach no one" not in page
    assert tasks_of(bo.username) == {"C-1", "C-2"}


def check() -> tuple[int, dict]:
    out = io.StringIO()
    try:
        call_command("check", "--format", "json", stdout=out, stderr=io.StringIO())
        code = 0
    except CommandError as exc:
        code = exc.returncode
    return code, {c["what"]: c for c in json.loads(out.getvalue())["checks"]}


def test_check_names_staff_without_email_and_tasks_of_staff_who_left(admin):
    ended("C-1")
    gone = User.objects.create_user("gone", "gone@redcloud.example", is_staff=True)
    create_tasks(current_policy(), AT, NOW)
    gone.is_active = False
    gone.save()
    code, found = check()
    assert code == 1
    email = found["staff without e-mail who have tasks"]
    assert not email["ok"] and "admin (1 open task)" in email["detail"]
    left = found["open tasks of staff who left"]
    assert not left["ok"] and "gone (1 open task)" in left["detail"]

    # The accountable role closes what the one who left cannot; the log says who did.
    task = ManualTask.objects.get(assignee=gone)
    browser = Client()
    browser.force_login(admin)
    url = reverse("admin:retention_manualtask_changelist")
    browser.post(url, {"action": "mark_done", "_selected_action": [task.pk]})
    entry = Entry.objects.get(action="task_acknowledged")
    assert entry.actor == "staff:admin" and entry.data["assignee"] == "gone"
    staff("email", "admin", "vd@redcloud.example")
    code, found = check()
    assert found["staff without e-mail who have tasks"]["ok"]
    assert found["open tasks of staff who left"]["ok"]
