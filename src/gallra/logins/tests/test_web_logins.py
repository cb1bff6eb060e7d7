"""Web applications post their login events: token, validation, and retries stored once."""

import json

import pytest
from django.core.management import call_command

from gallra.logins.models import LoginAlert, LoginEvent

URL = "/logins/events"


@pytest.fixture
def token(shares, capsys):
    call_command("logins", "token", "create", "webmail")
    return capsys.readouterr().out.strip()


def post(client, body, token="", **headers):
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def event(i=1, **kw):
    return {
        "id": f"evt-{i}",
        "at": f"2026-11-24T22:14:0{i % 10}Z",
        "outcome": "failure",
        "username": "anna",
        "ip": f"203.0.113.{i}",
        "service": "webmail",
        **kw,
    }


def test_events_with_a_valid_token_are_stored_anonymised(client, token, accounts):
    response = post(client, {"events": [event(1), event(2, outcome="success")]}, token)
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 2, "duplicates": 0, "skipped": {}}
    stored = list(LoginEvent.objects.order_by("at").values("service", "account", "network"))
    assert stored == [{"service": "webmail", "account": "anna", "network": "203.0.113.0/24"}] * 2


def test_a_retried_post_stores_nothing_twice(client, token):
    body = {"events": [event(i) for i in range(1, 4)]}
    assert post(client, body, token).json()["stored"] == 3
    again = post(client, {"events": [event(i) for i in range(1, 6)]}, token).json()
    assert again == {"stored": 2, "duplicates": 3, "skipped": {}}
    assert LoginEvent.objects.count() == 5


def test_no_token_a_wrong_one_or_a_revoked_one_gets_401(client, token):
    assert post(client, {"events": [event()]}).status_code == 401
    assert post(client, {"events": [event()]}, "glt_wrong").status_code == 401
    call_command("logins", "token", "revoke", "webmail")
    assert post(client, {"events": [event()]}, token).status_code == 401
    assert LoginEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": [event(1), event(2, ip="300.1.1.1")]}, "events[1].ip"),
        ({"events": [event(1, at="yesterday")]}, "events[0].at"),
        ({"events": [event(1, at="2026-11-24T22:14:00")]}, "events[0].at"),
        ({"events": [event(1, outcome="maybe")]}, "events[0].outcome"),
        ({"events": [event(1, password="hunter2")]}, "events[0].password"),
        ({"events": [{k: v for k, v in event(1).items() if k != "id"}]}, "events[0].id"),
        ({"events": [event(1, service="Web Mail")]}, "events[0].service"),
        ({"events": []}, "events"),
        ({"evnts": [event()]}, "events"),
        ({"events": ["x"]}, "events[0]"),
    ],
)
def test_a_bad_event_is_named_and_nothing_of_the_post_is_stored(client, token, body, field):
    response = post(client, body, token)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert field in response.json()["error"]
    assert LoginEvent.objects.count() == 0


def test_not_json_and_not_post(client, token):
    assert post(client, "{oops", token).status_code == 400
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 405


def test_web_events_raise_alerts_too(client, token):
    body = {"events": [event(i, username="admin", ip=f"203.0.113.{i}") for i in range(1, 7)]}
    assert post(client, body, token).json()["stored"] == 6
    assert LoginAlert.objects.get().kind == "brute_force"


def test_the_alert_mail_of_a_web_post_waits_in_the_outbox_not_in_the_request(
    client, token, smtp, settings
):
    """Item 3 of issue 16: no request talks SMTP. The relay is down while the events come in;
    the post is answered all the same, and the alert reaches the logins role afterwards."""
    from django.contrib.auth.models import Group, User

    from gallra.outbox.delivery import deliver
    from gallra.outbox.models import Mail

    tech = Group.objects.create(name="technician")  # responsibilities.logins in the policy
    User.objects.create(
        username="tekniker", email="tekniker@redcloud.example", is_staff=True
    ).groups.add(tech)
    relay_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = 1  # nothing listens there: the relay is down
    body = {"events": [event(i, username="admin", ip=f"203.0.113.{i}") for i in range(1, 7)]}
    response = post(client, body, token)
    assert response.status_code == 200 and response.json()["stored"] == 6
    assert LoginAlert.objects.get().notified is not None  # queued, so not queued again
    assert Mail.objects.filter(kind="login_alerts").count() == 1
    assert smtp.messages == []
    settings.EMAIL_PORT = relay_port
    assert deliver().sent == 1
    [(to, subject, _body)] = smtp.messages
    assert to == ["tekniker@redcloud.example"]
    assert Mail.objects.count() == 0  # nothing kept once delivered
