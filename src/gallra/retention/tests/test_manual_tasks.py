"""Manual tasks (P16): phone contacts are deleted by hand, assigned, reminded and acknowledged."""

import json
import socket
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from gallra.evidence.log import verify
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Customer
from gallra.retention.enforcement import enforce
from gallra.retention.models import ManualTask
from gallra.retention.tasks import create_tasks, remind

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def registry(db):
    import_document(
        {
            "customers": [
                {
                    "ref": "C-ended",
                    "name": "Slut AB",
                    "agreements": [{"ref": "AG-1", "start": "2020-01-01", "end": "2026-01-31"}],
                },
                {
                    "ref": "C-active",
                    "name": "Pågår AB",
                    "agreements": [{"ref": "AG-2", "start": "2020-01-01", "end": None}],
                },
                {
                    "ref": "C-solo",
                    "name": "Ensam AB",
                    "agreements": [{"ref": "AG-3", "start": "2020-01-01", "end": "2026-02-15"}],
                },
            ]
        }
    )
    anna = User.objects.create_user("anna", "anna@redcloud.example", is_staff=True)
    bo = User.objects.create_user("bo", "bo@redcloud.example", is_staff=True)
    User.objects.create_user("gammal", "old@redcloud.example", is_staff=True, is_active=False)
    Customer.objects.get(ref="C-ended").staff.add(anna)
    return anna, bo


def test_a_relationship_that_ends_gives_its_staff_a_task(registry):
    anna, bo = registry
    assert create_tasks(current_policy(), date(2026, 3, 1), NOW) == 3
    tasks = {(t.customer_ref, t.assignee.username): t for t in ManualTask.objects.all()}
    # The customer's assigned staff; a customer with none gives everyone active a task.
    assert set(tasks) == {("C-ended", "anna"), ("C-solo", "anna"), ("C-solo", "bo")}
    task = tasks[("C-ended", "anna")]
    assert task.what == "Radera kundens kontakter ur din mobiltelefon."
    assert task.due == date(2027, 1, 31)  # the policy's P1Y after the relationship ended
    assert create_tasks(current_policy(), date(2026, 3, 2), NOW) == 0  # never twice
    created = Entry.objects.filter(action="task_created")
    assert sorted(ref for e in created for ref in e.refs) == ["C-ended", "C-solo"]
    assert sum(e.count for e in created) == 3


def test_enforce_creates_the_tasks_too(registry):
    enforce(current_policy(), date(2026, 3, 1), now=lambda: NOW)
    assert ManualTask.objects.count() == 3


def test_reminders_go_by_mail_a_week_before_and_after_the_due_date(registry, smtp):
    anna, _ = registry
    create_tasks(current_policy(), date(2026, 3, 1), NOW)
    assert remind(date(2027, 1, 23)) == 0  # more than a week before 31 Jan
    assert remind(date(2027, 1, 24)) == 1
    assert remind(date(2027, 1, 24)) == 0  # once a day
    ((to, subject, body),) = smtp.messages
    assert to == ["anna@redcloud.example"]
    assert subject.startswith("Påminnelse: Radera kundens kontakter")
    assert "C-ended" in body and "2027-01-31" in body
    assert remind(date(2027, 2, 5)) == 1  # overdue: reminded again
    assert smtp.messages[-1][1].startswith("Försenad")


def test_acknowledging_in_the_admin_records_evidence(registry, client):
    anna, bo = registry
    create_tasks(current_policy(), date(2026, 3, 1), NOW)
    anna.is_superuser = True
    anna.set_password("ett-långt-lösenord")
    anna.save()
    client.force_login(anna)
    mine = ManualTask.objects.get(customer_ref="C-ended", assignee=anna)
    others = ManualTask.objects.get(customer_ref="C-solo", assignee=bo)
    url = reverse("admin:retention_manualtask_changelist")
    client.post(url, {"action": "mark_done", "_selected_action": [mine.pk, others.pk]})
    mine.refresh_from_db()
    others.refresh_from_db()
    assert mine.done_at is not None
    assert others.done_at is None  # only the assignee can say it is done
    entry = Entry.objects.get(action="task_acknowledged")
    assert (entry.actor, entry.refs, entry.rule) == ("staff:anna", ["C-ended"], "phone-contacts")
    assert verify().ok
    # A week before C-solo's due date: both its tasks remind; anna's done task does not.
    assert remind(date(2027, 2, 10)) == 2
    assert ManualTask.objects.get(pk=mine.pk).reminded is None


def test_reminders_wait_in_the_outbox_while_the_relay_is_down(registry, smtp, settings):
    from gallra.outbox.models import Mail

    create_tasks(current_policy(), date(2026, 3, 1), NOW)
    relay = settings.EMAIL_PORT
    with socket.socket() as s:  # a port nothing listens on: the relay is down
        s.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = s.getsockname()[1]
    out = StringIO()
    call_command("tasks", "remind", "--at", "2027-01-24", "--format", "json", stdout=out)
    assert json.loads(out.getvalue())["reminders_sent"] == 1  # no traceback: queued
    [mail] = Mail.objects.all()
    assert mail.kind == "task_reminder" and mail.last_error.startswith("ConnectionRefusedError")
    task = ManualTask.objects.get(customer_ref="C-ended")
    assert task.reminded == date(2027, 1, 24)  # recorded: the mail is on its way
    call_command("tasks", "remind", "--at", "2027-01-24", stdout=StringIO())
    assert Mail.objects.count() == 1  # once a day, even while it waits

    settings.EMAIL_PORT = relay  # the relay is back; the outbox tries again a minute later
    later = timezone.now() + timedelta(minutes=2)
    with mock.patch("django.utils.timezone.now", return_value=later):
        call_command("outbox", "send", stdout=StringIO())
    [(to, subject, body)] = smtp.messages
    assert to == ["anna@redcloud.example"]
    assert subject.startswith("Påminnelse: Radera kundens kontakter")
    assert "C-ended" in body and "2027-01-31" in body
    assert not Mail.objects.exists()
