"""The incident register: the 72-hour clock, the rules of Art. 33 and 34, evidence without
free text, the one-click from a login alert and `gallra incidents` for cron."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import Permission, User
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from gallra.evidence.log import entry_as_dict
from gallra.evidence.models import Entry
from gallra.incidents.models import Incident, overdue_notifications
from gallra.logins.models import AFTER_FAILURES, BRUTE_FORCE, NEW_COUNTRY, STUFFING, LoginAlert

H = timedelta(hours=1)
FREE_TEXT = {
    "title": "Laptop stolen from Anna Svensson's car",
    "description": "The laptop held anna.svensson@kund.example's mailbox",
    "data_concerned": "names, e-mail addresses, personnummer 19800101-1234",
    "imy_reference": "IMY-2026-4711",
    "subjects_told_how": "letter to Storgatan 1, Ystad",
    "delay_reason": "the CEO Bo Berg was abroad",
    "subjects_not_told_reason": "Bo Berg decided so",
}


def incident(known_hours_ago: float = 1, **fields) -> Incident:
    fields.setdefault("title", "A breach")
    fields.setdefault("known_at", timezone.now() - known_hours_ago * H)
    return Incident(opened_by="vd", **fields)


def field_errors(obj: Incident) -> set[str]:
    with pytest.raises(ValidationError) as exc:
        obj.full_clean()
    return set(exc.value.message_dict)


@pytest.fixture
def superuser(db, client) -> User:
    user = User.objects.create_superuser("vd", "vd@redcloud.example", "x" * 16)
    client.force_login(user)
    return user


@pytest.fixture
def alert(db) -> LoginAlert:
    at = timezone.now() - 2 * H
    return LoginAlert.objects.create(
        kind=BRUTE_FORCE,
        key="203.0.113.0/24",
        first_at=at,
        last_at=at + H,
        events=40,
        detail="40 failures within 10 minutes",
    )


def incident_entries() -> list[Entry]:
    return list(Entry.objects.filter(action__startswith="incident_").order_by("seq"))


# The 72-hour clock (Art. 33(1))


def test_the_clock_runs_72_hours_from_becoming_aware():
    now = timezone.now()
    fresh = Incident(known_at=now - 70 * H)
    assert fresh.deadline == now + 2 * H
    assert fresh.hours_left(now) == pytest.approx(2)
    late = Incident(known_at=now - 75 * H)
    assert late.hours_left(now) == pytest.approx(-3)


@pytest.mark.parametrize(
    "fields, due",
    [
        ({}, True),  # risk not assessed yet: the clock runs
        ({"risk": "risk"}, True),
        ({"risk": "high"}, True),
        ({"risk": "none"}, False),  # unlikely to result in a risk: documented, not notified
        ({"risk": "high", "imy_notified_at": "now"}, False),
        (
            {"risk": "none", "closed_at": "now", "not_notified_reason": "backup was encrypted"},
            False,
        ),
    ],
)
def test_notification_due(db, fields, due):
    now = timezone.now()
    fields = {k: now if v == "now" else v for k, v in fields.items()}
    made = incident(known_hours_ago=80, **fields)
    made.save()
    assert made.notification_due is due
    assert list(Incident.objects.notification_due()) == ([made] if due else [])
    assert list(overdue_notifications(now)) == ([made] if due else [])
    assert list(overdue_notifications(now - 9 * H)) == []  # 71 hours then: not yet late
    assert list(Incident.objects.open()) == ([] if made.closed_at else [made])


def test_overdue_notifications_oldest_first(db):
    now = timezone.now()
    newer, older = incident(73), incident(100)
    Incident.objects.bulk_create([newer, older, incident(10)])
    assert [i.known_at for i in overdue_notifications(now)] == [older.known_at, newer.known_at]


def test_high_risk_means_the_subjects_must_be_told():
    assert Incident(risk="high").subjects_must_be_told
    assert not Incident(risk="risk").subjects_must_be_told


# The rules, each reported on its own field


@pytest.mark.parametrize(
    "fields, names",
    [
        ({"known_at": "future"}, {"known_at"}),
        ({"risk": "risk", "closed_at": "now"}, {"imy_notified_at"}),
        ({"closed_at": "now"}, {"imy_notified_at"}),  # risk not assessed: cannot close
        ({"risk": "none", "closed_at": "now"}, {"not_notified_reason"}),
        (
            {"risk": "high", "imy_notified_at": "now", "delay_reason": "x", "closed_at": "now"},
            {"subjects_told_at"},
        ),
        ({"risk": "high", "closed_at": "now"}, {"imy_notified_at", "subjects_told_at"}),
        ({"risk": "risk", "imy_notified_at": "now"}, {"delay_reason"}),  # 80 h after: late
        ({"imy_notified_at": "before"}, {"imy_notified_at"}),
    ],
)
def test_validation_names_the_field(fields, names):
    now = timezone.now()
    values = {"now": now, "future": now + H, "before": now - 100 * H}
    obj = incident(known_hours_ago=80, **{k: values.get(v, v) for k, v in fields.items()})
    assert field_errors(obj) == names


@pytest.mark.parametrize(
    "fields",
    [
        {"risk": "none", "not_notified_reason": "the stolen disk was encrypted"},
        {"risk": "risk", "imy_notified_at": "now", "delay_reason": "found on a Friday night"},
        {
            "risk": "high",
            "imy_notified_at": "now",
            "delay_reason": "x",
            "subjects_not_told_reason": "the data were encrypted (Art. 34(3)(a))",
        },
        {
            "risk": "high",
            "imy_notified_at": "now",
            "delay_reason": "x",
            "subjects_told_at": "now",
            "subjects_told_how": "e-mail",
        },
    ],
)
def test_a_documented_incident_can_be_closed(fields):
    now = timezone.now()
    obj = incident(
        known_hours_ago=80,
        closed_at=now,
        **{k: now if v == "now" else v for k, v in fields.items()},
    )
    obj.full_clean()


def test_notified_in_time_needs_no_reasons():
    now = timezone.now()
    incident(known_hours_ago=71, risk="risk", imy_notified_at=now).full_clean()


# Evidence: every step, refs and counts only


def test_every_step_is_evidence_without_free_text(superuser, client):
    now = timezone.localtime()
    known = now - 80 * H
    form = {
        "title": FREE_TEXT["title"],
        "description": FREE_TEXT["description"],
        "known_at_0": f"{known:%Y-%m-%d}",
        "known_at_1": f"{known:%H:%M:%S}",
        "login_alert": "",
        "data_concerned": FREE_TEXT["data_concerned"],
        "subjects_count": "12",
        "risk": "high",
        **{
            f"{name}_{i}": ""
            for name in ("imy_notified_at", "subjects_told_at", "closed_at")
            for i in (0, 1)
        },
        "imy_reference": "",
        "delay_reason": "",
        "not_notified_reason": "",
        "subjects_told_how": "",
        "subjects_not_told_reason": "",
    }
    response = client.post(reverse("admin:incidents_incident_add"), form)
    assert response.status_code == 302
    made = Incident.objects.get()
    assert made.opened_by == "vd" and made.notification_due
    change = reverse("admin:incidents_incident_change", args=[made.pk])

    # Closing before IMY and the subjects were told is refused, on those fields.
    closing = {"closed_at_0": f"{now:%Y-%m-%d}", "closed_at_1": f"{now:%H:%M:%S}"}
    response = client.post(change, {**form, **closing})
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"imy_notified_at", "subjects_told_at"}

    notified = {
        "imy_notified_at_0": f"{now:%Y-%m-%d}",
        "imy_notified_at_1": f"{now:%H:%M:%S}",
        "imy_reference": FREE_TEXT["imy_reference"],
    }
    response = client.post(change, {**form, **notified})
    assert set(response.context["adminform"].form.errors) == {"delay_reason"}  # 80 h: late
    form.update(notified, delay_reason=FREE_TEXT["delay_reason"])
    assert client.post(change, form).status_code == 302
    made.refresh_from_db()
    assert made.late_notification and not made.notification_due

    form.update(
        {
            "subjects_told_at_0": f"{now:%Y-%m-%d}",
            "subjects_told_at_1": f"{now:%H:%M:%S}",
            "subjects_told_how": FREE_TEXT["subjects_told_how"],
        }
    )
    assert client.post(change, form).status_code == 302
    form.update(closing, description=FREE_TEXT["description"] + ", and more")
    assert client.post(change, form).status_code == 302
    made.refresh_from_db()
    assert made.closed_at is not None

    entries = incident_entries()
    assert [e.action for e in entries] == [
        "incident_opened",
        "incident_imy_notified",
        "incident_subjects_told",
        "incident_changed",  # the description, edited when closing
        "incident_closed",
    ]
    assert all(e.refs == [f"incident:{made.pk}"] and e.count == 12 for e in entries)
    assert all(e.actor == "vd" and e.record_type == "incident" for e in entries)
    assert entries[0].data["risk"] == "high" and entries[1].data["late"] is True
    assert entries[3].data["fields"] == ["description"]
    assert entries[4].data["imy_notified"] is True and entries[4].data["subjects_told"] is True
    logged = json.dumps([entry_as_dict(e) for e in entries], ensure_ascii=False)
    for text in FREE_TEXT.values():
        for word in text.split():
            if len(word) > 4 and word not in ("e-mail", "names,"):
                assert word not in logged, word


def test_incidents_cannot_be_deleted(superuser, client):
    made = incident()
    made.record(actor="vd", now=timezone.now())
    response = client.post(
        reverse("admin:incidents_incident_delete", args=[made.pk]), {"post": "yes"}
    )
    assert response.status_code == 403 and Incident.objects.filter(pk=made.pk).exists()


def test_the_list_shows_the_clock_and_escapes_the_title(superuser, client):
    incident(74.5, title="<script>alert(1)</script>").record(actor="vd", now=timezone.now())
    incident(60.5, title="fresh").record(actor="vd", now=timezone.now())
    incident(10.5, title="early").record(actor="vd", now=timezone.now())
    page = client.get(reverse("admin:incidents_incident_changelist")).content.decode()
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert '<span class="incident-late">3 h ' in page
    assert '<span class="incident-soon">11 h ' in page
    assert '<span class="incident-clock">61 h ' in page
    assert "incidents/admin.css" in page
    due = client.get(reverse("admin:incidents_incident_changelist"), {"state": "due"})
    assert len(due.context["cl"].result_list) == 3


# One click from a login alert


def test_one_click_from_a_login_alert_opens_one_incident(superuser, client, alert):
    changelist = reverse("admin:logins_loginalert_changelist")
    before = timezone.now()
    response = client.post(changelist, {"action": "open_incident", "_selected_action": [alert.pk]})
    made = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:incidents_incident_change", args=[made.pk])
    assert made.login_alert == alert and made.opened_by == "vd"
    assert before <= made.known_at <= timezone.now()
    assert "203.0.113.0/24" in made.title and made.notification_due
    assert [(e.action, e.refs, e.data["login_alert"]) for e in incident_entries()] == [
        ("incident_opened", [f"incident:{made.pk}"], alert.pk)
    ]
    assert client.get(response["Location"]).status_code == 200

    # A second click, from the list or the alert's page, returns the same incident.
    again = client.post(changelist, {"action": "open_incident", "_selected_action": [alert.pk]})
    assert again["Location"] == response["Location"]
    button = client.post(reverse("admin:logins_loginalert_incident", args=[alert.pk]))
    assert button["Location"] == response["Location"]
    assert Incident.objects.count() == 1 and len(incident_entries()) == 1
    page = client.get(reverse("admin:logins_loginalert_change", args=[alert.pk])).content.decode()
    assert reverse("admin:incidents_incident_change", args=[made.pk]) in page

    # Once that incident is closed, the alert can open a new one.
    made.risk, made.not_notified_reason = "none", "only failed logins: nothing was reached"
    made.closed_at = timezone.now()
    made.record(actor="vd", now=timezone.now())
    client.post(changelist, {"action": "open_incident", "_selected_action": [alert.pk]})
    assert Incident.objects.filter(login_alert=alert).count() == 2


def test_an_alert_without_a_key_gives_a_whole_title(db):
    at = timezone.now()
    alert = LoginAlert.objects.create(kind=STUFFING, key="", first_at=at, last_at=at, events=9)
    made, opened = Incident.open_for_login_alert(alert, actor="vd", now=at)
    assert opened and made.title.endswith(str(alert.get_kind_display()))


def test_only_staff_who_may_add_incidents_get_the_action(db, client, alert):
    tech = User.objects.create_user("tekniker", password="x" * 16, is_staff=True)
    tech.user_permissions.add(Permission.objects.get(codename="view_loginalert"))
    client.force_login(tech)
    changelist = reverse("admin:logins_loginalert_changelist")
    assert "open_incident" not in client.get(changelist).content.decode()
    refused = client.post(reverse("admin:logins_loginalert_incident", args=[alert.pk]))
    assert refused.status_code == 403 and not Incident.objects.exists()
    tech.user_permissions.add(Permission.objects.get(codename="add_incident"))
    client.post(changelist, {"action": "open_incident", "_selected_action": [alert.pk]})
    assert Incident.objects.get().opened_by == "tekniker"


# `gallra incidents`


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("incidents", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def test_the_command_exits_1_when_a_notification_is_overdue(db):
    code, out = run()
    assert code == 0 and "0 open incidents" in out
    assert run("--quiet") == (0, "")
    late = incident(72.5, title="Stolen laptop")
    late.record(actor="vd", now=timezone.now())
    incident(100, risk="none").record(actor="vd", now=timezone.now())
    code, out = run()
    assert code == 1
    assert f"{late.ref}" in out and "OVERDUE by 1 h" in out and "Stolen laptop" in out
    assert "not notified: unlikely to be a risk" in out
    assert run("--quiet")[0] == 1
    # Two hours earlier the clock had not run out.
    earlier = timezone.localtime() - 2 * H
    code, out = run("--at", f"{earlier:%Y-%m-%dT%H:%M:%S}")
    assert code == 0 and "1 h left" in out
    code, out = run("--format", "json")
    rows = json.loads(out)
    assert code == 1 and [r["overdue"] for r in rows] == [False, True]
    late.imy_notified_at, late.delay_reason = timezone.now(), "found on a holiday"
    late.record(actor="vd", now=timezone.now())
    code, out = run()
    assert code == 0 and "(late)" in out
    assert run("--at", "yesterday")[0] == 2


@pytest.mark.parametrize(
    ("kind", "key"), [(NEW_COUNTRY, "anna.svensson US"), (AFTER_FAILURES, "anna.svensson")]
)
def test_an_incident_from_an_alert_on_an_account_does_not_name_the_account(db, kind, key):
    """The incident list is open to roles that may not see account names (P22): the name
    stays on the alert's page, which masks it for them."""
    at = timezone.now()
    alert = LoginAlert.objects.create(
        kind=kind,
        key=key,
        detail="first login from US; before only from SE",
        first_at=at,
        last_at=at,
        events=1,
    )
    made, opened = Incident.open_for_login_alert(alert, actor="vd", now=at)
    assert opened
    assert "anna" not in made.title + made.description
    assert str(alert.pk) in made.description  # the way back to the alert
