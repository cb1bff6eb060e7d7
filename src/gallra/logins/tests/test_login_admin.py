"""Staff see alerts and events in the admin, never a full address, and acknowledge alerts;
an account's user name only to the roles that may see it, each look recorded."""

import json
import re
from datetime import UTC, date, datetime

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from gallra import config
from gallra.evidence.models import Entry
from gallra.logins import partitions
from gallra.logins.detection import detect
from gallra.logins.ingest import ingest_files
from gallra.logins.models import LoginAlert, LoginEvent
from gallra.policy.loading import current_policy
from gallra.staff import roles


def test_admin_lists_events_and_alerts_and_acknowledges(shares, policy, client, tmp_path):
    log = tmp_path / "auth.log"
    log.write_text(
        "".join(
            f"Nov 24 22:0{i}:00 web1 sshd[{i}]: Failed password for root from 203.0.113.{i + 1} "
            "port 1 ssh2\n"
            for i in range(6)
        )
    )
    ingest_files([log], policy, now=datetime(2026, 11, 25, tzinfo=UTC))
    detect(policy, datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC))
    admin = User.objects.create_superuser("vd", "vd@redcloud.example", "x" * 16)
    client.force_login(admin)
    events = client.get("/admin/logins/loginevent/")
    assert events.status_code == 200
    page = events.content.decode()
    assert "203.0.113.0/24" in page and "203.0.113.1<" not in page and "sealed" not in page
    alerts = client.get("/admin/logins/loginalert/")
    assert alerts.status_code == 200 and "203.0.113.0/24" in alerts.content.decode()
    alert = LoginAlert.objects.get()
    response = client.post(
        "/admin/logins/loginalert/",
        {"action": "acknowledge", "_selected_action": [alert.pk]},
        follow=True,
    )
    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.acknowledged is not None and alert.acknowledged_by == "vd"


# --- who sees an account's user name (P22; issue 16, item 2) -----------------------------------
#
# The role that answers for the `logins` area (policy [responsibilities], JufCorp: technician)
# sees the names, to act on an attack; so do the roles with personal data. Each page that
# shows a name is recorded. Every other role sees the pages with the name masked.

EVENTS, ALERTS = "/admin/logins/loginevent/", "/admin/logins/loginalert/"
VIEWED, REFUSED = "personal_data_viewed", "personal_data_refused"


@pytest.fixture
def logins(accounts):
    """An event on anna's account, one on an unknown user name, and three alerts: two that
    name anna, one that names a network."""
    now = timezone.now()
    at = now.astimezone(UTC)
    partitions.ensure_months({date(at.year, at.month, 1)})
    common = {
        "at": now,
        "outcome": "failure",
        "method": "password",
        "service": "ssh",
        "host": "web1",
        "network": "203.0.113.0/24",
        "country": "SE",
        "sealed": b"x",
        "sealed_with": 1,
    }
    named = LoginEvent.objects.create(account="anna", **common)
    unknown = LoginEvent.objects.create(pseudonym="9f8e7d6c5b4a", **common)
    alerts = {
        kind: LoginAlert.objects.create(
            kind=kind,
            key=key,
            first_at=now,
            last_at=now,
            events=6,
            detail="6 failures within 10 minutes",
        )
        for kind, key in (
            ("after_failures", "anna"),
            ("new_country", "anna DE"),
            ("brute_force", "203.0.113.0/24"),
        )
    }
    return named, unknown, alerts


def entries(action: str, actor: str) -> list[Entry]:
    return list(Entry.objects.filter(action=action, actor=actor).order_by("seq"))


def test_the_role_answering_for_logins_sees_names_and_each_look_is_recorded(
    client, staff_member, logins
):
    named, unknown, alerts = logins
    client.force_login(staff_member("tekniker", "technician"))  # no personal data
    page = client.get(EVENTS).content.decode()
    assert ">anna<" in page and "•••" not in page
    (listed,) = entries(VIEWED, "tekniker")
    assert listed.record_type == "login_event" and listed.refs == [f"login-event-{named.pk}"]
    assert listed.customer_refs == ["C-1"]  # whose account it is
    assert "anna" not in json.dumps(listed.hashed_content())
    assert ">anna<" in client.get(f"{EVENTS}{named.pk}/change/").content.decode()
    assert entries(VIEWED, "tekniker")[-1].refs == [f"login-event-{named.pk}"]
    client.get(f"{EVENTS}{unknown.pk}/change/")  # no name on it: nothing to record
    assert len(entries(VIEWED, "tekniker")) == 2
    page = client.get(ALERTS).content.decode()
    assert ">anna<" in page and "anna DE" in page
    shown = entries(VIEWED, "tekniker")[-1]
    assert shown.record_type == "login_alert"
    assert sorted(shown.refs) == sorted(
        f"login-alert-{alerts[k].pk}" for k in ("after_failures", "new_country")
    )
    # they may look names up on these pages: they see them anyway
    page = client.get(EVENTS, {"q": "ann"}).content.decode()
    assert ">anna<" in page
    assert client.get(EVENTS, {"account__istartswith": "an"}).status_code == 200
    assert client.get(ALERTS, {"key__startswith": "anna"}).status_code == 200
    assert not entries(REFUSED, "tekniker")


@pytest.fixture
def intern(staff_member, logins):
    """A staff member in a group of one's own: may look at login events and alerts, has no
    personal data and does not answer for logins."""
    group = Group.objects.create(name="praktikant")
    group.permissions.set(
        Permission.objects.filter(
            codename__in=["view_loginevent", "view_loginalert", "change_loginalert"]
        )
    )
    user = User.objects.create_user("praktikant", is_staff=True)
    user.groups.add(group)
    return user


def test_every_other_role_sees_the_logins_pages_with_the_name_masked(client, intern, logins):
    named, unknown, alerts = logins
    client.force_login(intern)
    pages = [
        EVENTS,
        f"{EVENTS}{named.pk}/change/",
        f"{EVENTS}{named.pk}/history/",
        ALERTS,
    ]
    for alert in alerts.values():
        pages += [f"{ALERTS}{alert.pk}/change/", f"{ALERTS}{alert.pk}/history/"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "anna" not in response.content.decode(), path
    assert "•••" in client.get(EVENTS).content.decode()
    page = client.get(ALERTS).content.decode()
    assert "••• DE" in page and "203.0.113.0/24" in page  # a network is no name
    assert not entries(VIEWED, "praktikant")


def test_for_that_role_the_logins_filters_and_search_hold_no_name(client, intern, logins):
    client.force_login(intern)
    for path, query in (
        (EVENTS, {"account": "anna"}),
        (EVENTS, {"account__istartswith": "an"}),
        (EVENTS, {"pseudonym__startswith": "9f"}),
        (ALERTS, {"key__startswith": "anna"}),
        (ALERTS, {"key__regex": "^an", "kind": "new_country"}),
    ):
        response = client.get(path, query)
        assert response.status_code == 403, query
    refused = entries(REFUSED, "praktikant")
    assert len(refused) == 5
    assert refused[0].data["fields"] == ["logins.loginevent.account"]
    assert "anna" not in json.dumps([e.hashed_content() for e in refused])

    # the search looks at the network only: a name is not found
    def rows(response) -> str:
        text = response.content.decode()
        return re.sub(r'href="[^"]*"', "", text[text.find('id="result_list"') :])

    assert rows(client.get(EVENTS, {"q": "anna"})) == rows(client.get(EVENTS, {"q": "xxxx"}))
    assert "203.0.113" in rows(client.get(EVENTS, {"q": "203.0.113"}))
    # the masked column does not sort (by the name or anything else)
    columns = ["action_checkbox", "at", "outcome", "method", "service", "host", "account"]
    assert client.get(EVENTS, {"o": str(columns.index("account"))}).status_code == 200
    assert len(entries(REFUSED, "praktikant")) == 5


def test_who_answers_for_logins_is_read_from_the_policy(
    client, staff_member, logins, tmp_path, monkeypatch
):
    """Give the logins area to the CEO: the technician then sees the alerts masked."""
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    assert 'logins = "technician"' in text
    moved = tmp_path / "policy.toml"
    moved.write_text(text.replace('logins = "technician"', 'logins = "ceo"'), encoding="utf-8")
    monkeypatch.setenv("GALLRA_POLICY", str(moved))
    roles.sync(current_policy())
    tech = staff_member("tekniker", "technician")
    client.force_login(tech)
    page = client.get(ALERTS).content.decode()
    assert "anna" not in page and "••• DE" in page
    assert client.get(EVENTS).status_code == 403  # the events are the area's own page
    assert not entries(VIEWED, "tekniker")
