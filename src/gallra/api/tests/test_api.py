"""The HTTP API: tokens and permissions, each endpoint's answers, pages and errors."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from gallra.api.models import ApiToken
from gallra.api.tests.conftest import ANNA, EVERYTHING
from gallra.evidence.models import Entry
from gallra.logins.models import LoginEvent

API = "/api/v1"
READS = {
    "/consent/decisions": "consent.view_consentdecision",
    "/requests": "subjects.view_subjectrequest",
    "/plan": "retention.view_duerecord",
    "/evidence": "evidence.view_entry",
    "/evidence/verify": "evidence.view_entry",
}


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def post_events(client, events, headers) -> object:
    return client.post(
        f"{API}/logins/events",
        json.dumps({"events": events}),
        content_type="application/json",
        **headers,
    )


def event(i=1, **kw) -> dict:
    return {
        "id": f"evt-{i}",
        "at": f"2026-11-24T22:14:0{i % 10}Z",
        "outcome": "failure",
        "username": "anna",
        "ip": f"203.0.113.{i}",
        "service": "webmail",
        **kw,
    }


# -- tokens and permissions ---------------------------------------------------------------


@pytest.mark.parametrize("path", [*READS, "/consent/decisions/1", "/requests/DSR-2026-0001"])
def test_without_a_valid_token_every_endpoint_answers_401(client, token_for, path):
    for headers in ({}, bearer("gla_wrong"), {"HTTP_AUTHORIZATION": "Basic YWRtaW46YWRtaW4="}):
        response = client.get(API + path, **headers)
        assert response.status_code == 401, (path, headers)
        assert "Bearer" in response.json()["detail"]
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert post_events(client, [event()], {}).status_code == 401


def test_a_revoked_token_or_one_of_a_deactivated_user_is_refused(client, token_for):
    token = token_for(*EVERYTHING, username="kim")
    assert client.get(f"{API}/evidence", **bearer(token)).status_code == 200
    call_command("api", "token", "revoke", "kim")
    assert client.get(f"{API}/evidence", **bearer(token)).status_code == 401

    other = token_for(*EVERYTHING, username="lo")
    user = ApiToken.objects.get(name="lo").user
    user.is_active = False
    user.save()
    assert client.get(f"{API}/evidence", **bearer(other)).status_code == 401


@pytest.mark.parametrize(("path", "needed"), READS.items())
def test_a_user_without_the_view_permission_gets_403(client, token_for, path, needed):
    lacking = token_for(*[p for p in EVERYTHING if p != needed])
    response = client.get(API + path, **bearer(lacking))
    assert response.status_code == 403
    assert needed in response.json()["detail"]
    assert client.get(API + path, **bearer(token_for(needed))).status_code == 200


def test_a_superuser_token_may_do_everything(client, db):
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    boss = get_user_model().objects.create_superuser("vd", "vd@jufcorp.example")
    token = ApiToken.issue("vd-script", boss, now=timezone.now(), actor="test")
    for path in READS:
        assert client.get(API + path, **bearer(token)).status_code == 200, path


def test_the_token_command_prints_the_token_once_and_logs_no_token(db, capsys):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("anna", is_staff=True)
    call_command("api", "token", "create", "anna", "--name", "billing-sync")
    token = capsys.readouterr().out.strip()
    assert re.fullmatch(r"gla_[A-Za-z0-9_-]{40,}", token)
    stored = ApiToken.objects.get(name="billing-sync")
    assert stored.user.username == "anna" and token not in stored.digest

    call_command("api", "token", "list")
    listed = capsys.readouterr().out
    assert "billing-sync  for anna" in listed and "last used never" in listed
    assert token not in listed

    call_command("api", "token", "revoke", "billing-sync")
    call_command("api", "token", "list")
    assert "revoked" in capsys.readouterr().out
    log = list(Entry.objects.values_list("action", "refs", "data"))
    assert [(a, r) for a, r, _ in log] == [
        ("api_token_created", ["billing-sync"]),
        ("api_token_revoked", ["billing-sync"]),
    ]
    assert token not in json.dumps(log) and stored.digest not in json.dumps(log)

    # The name is free again once revoked; an active one cannot be taken twice.
    call_command("api", "token", "create", "anna", "--name", "billing-sync")
    with pytest.raises(CommandError, match="an active token named 'billing-sync' exists") as e:
        call_command("api", "token", "create", "anna", "--name", "billing-sync")
    assert e.value.returncode == 1


def test_the_token_command_names_an_unknown_user_and_a_token_not_active(db):
    with pytest.raises(CommandError, match="^no user 'nobody'$") as e:
        call_command("api", "token", "create", "nobody", "--name", "x")
    assert e.value.returncode == 2
    with pytest.raises(CommandError, match="^no active token named 'x'$") as e:
        call_command("api", "token", "revoke", "x")
    assert e.value.returncode == 1


def test_a_token_notes_when_it_was_last_used(client, token_for):
    token = token_for("evidence.view_entry", username="kim")
    assert ApiToken.objects.get(name="kim").last_used is None
    client.get(f"{API}/evidence", **bearer(token))
    assert ApiToken.objects.get(name="kim").last_used is not None


# -- consent decisions --------------------------------------------------------------------


def test_consent_decisions_newest_first_in_pages(client, auth, decisions):
    first = client.get(f"{API}/consent/decisions?limit=2", **auth).json()
    assert first["count"] == 3 and (first["limit"], first["offset"]) == (2, 0)
    assert [d["action"] for d in first["items"]] == ["withdraw", "custom"]
    rest = client.get(f"{API}/consent/decisions?limit=2&offset=2", **auth).json()
    assert [d["action"] for d in rest["items"]] == ["accept_all"]
    assert rest["items"][0]["categories"] == {"statistics": True}


def test_a_visitors_decisions_by_consent_id_and_one_by_id(client, auth, decisions):
    mine = decisions[1]
    found = client.get(f"{API}/consent/decisions?consent_id={mine.consent_id}", **auth).json()
    assert [d["id"] for d in found["items"]] == [mine.pk]
    one = client.get(f"{API}/consent/decisions/{mine.pk}", **auth)
    assert one.status_code == 200
    assert one.json() | {"at": None} == {
        "id": mine.pk,
        "consent_id": mine.consent_id,
        "action": "custom",
        "categories": {"statistics": False},
        "services": {"youtube": False},
        "banner_revision": 1,
        "policy_revision": 1,
        "text_hash": "ab" * 32,
        "locale": "sv",
        "at": None,
    }
    assert client.get(f"{API}/consent/decisions/999999", **auth).status_code == 404


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("offset=-1", "offset"),
        ("limit=many", "limit"),
        ("consent_id=%00", "consent_id"),
    ],
)
def test_a_bad_query_parameter_is_422_naming_it(client, auth, query, field):
    response = client.get(f"{API}/consent/decisions?{query}", **auth)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


# -- web-login events ---------------------------------------------------------------------


def test_login_events_are_stored_anonymised_and_a_retry_stores_nothing_twice(
    client, token_for, escrow
):
    headers = bearer(token_for("logins.add_loginevent"))
    response = post_events(client, [event(1), event(2, outcome="success")], headers)
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 2, "duplicates": 0, "skipped": {}}
    assert "203.0.113.1" not in response.content.decode()
    stored = list(LoginEvent.objects.values_list("service", "network", "outcome").order_by("at"))
    assert stored == [
        ("webmail", "203.0.113.0/24", "failure"),
        ("webmail", "203.0.113.0/24", "success"),
    ]
    again = post_events(client, [event(i) for i in range(1, 5)], headers).json()
    assert again == {"stored": 2, "duplicates": 2, "skipped": {}}
    assert LoginEvent.objects.count() == 4


def test_login_events_need_the_add_permission(client, token_for, escrow):
    viewer = bearer(token_for(*[p for p in EVERYTHING if p != "logins.add_loginevent"]))
    response = post_events(client, [event()], viewer)
    assert response.status_code == 403 and "logins.add_loginevent" in response.json()["detail"]
    assert LoginEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("events", "status", "field"),
    [
        ([event(1), event(2, ip="300.1.1.1")], 400, "events[1].ip"),
        ([event(1, at="2026-11-24T22:14:00")], 400, "events[0].at"),
        ([event(1, at="2999-01-01T00:00:00Z")], 400, "events[0].at"),
        ([event(1, method="pass\x00word")], 400, "events[0].method"),
        ([event(1, outcome="maybe")], 422, "outcome"),
        ([event(1, password="hunter2")], 422, "password"),
        ([], 422, "events"),
    ],
)
def test_a_bad_login_event_is_named_and_nothing_is_stored(
    client, auth, escrow, events, status, field
):
    response = post_events(client, events, auth)
    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["field"] == field and field in response.json()["detail"]
    else:
        assert field in response.json()["detail"][0]["loc"]
    assert LoginEvent.objects.count() == 0


def test_a_body_that_is_not_json_is_400_and_without_escrow_key_503(client, auth, db):
    response = client.post(f"{API}/logins/events", "{oops", content_type="application/json", **auth)
    assert response.status_code == 400
    assert post_events(client, [event()], auth).status_code == 503  # `logins escrow init` first


def test_posting_needs_no_csrf_token(auth, escrow):
    browserless = Client(enforce_csrf_checks=True)
    assert post_events(browserless, [event()], auth).status_code == 200


# -- data-subject requests ----------------------------------------------------------------


def test_requests_come_as_a_work_list_overdue_first(client, auth, requests):
    page = client.get(f"{API}/requests", **auth).json()
    assert [r["ref"] for r in page["items"]] == [
        requests["overdue"],
        requests["later"],
        requests["done"],
    ]
    assert [r["overdue"] for r in page["items"]] == [True, False, False]
    assert page["items"][2]["status"] == "done"
    open_only = client.get(f"{API}/requests?status=received&status=verified", **auth).json()
    assert [r["ref"] for r in open_only["items"]] == [requests["overdue"], requests["later"]]
    assert client.get(f"{API}/requests?status=lost", **auth).status_code == 422


def test_the_subjects_data_needs_the_personal_data_permission(client, token_for, requests):
    without = bearer(token_for("subjects.view_subjectrequest"))
    for response in (
        client.get(f"{API}/requests", **without),
        client.get(f"{API}/requests/{requests['later']}", **without),
    ):
        assert response.status_code == 200
        body = response.content.decode()
        for personal in [*ANNA.values(), "070-123"]:
            assert personal not in body
    assert client.get(f"{API}/requests/{requests['later']}", **without).json()["personal"] is None

    allowed = bearer(token_for("subjects.view_subjectrequest", "registry.view_personal_data"))
    one = client.get(f"{API}/requests/{requests['later']}", **allowed).json()
    assert one["personal"]["email"] == ANNA["email"] and one["personal"]["name"] == ANNA["name"]
    assert one["personal"]["note"] == "called from 070-123 45 67"


def test_an_unknown_or_malformed_request_ref(client, auth, requests):
    assert client.get(f"{API}/requests/DSR-1999-0001", **auth).status_code == 404
    response = client.get(f"{API}/requests/DSR%00", **auth)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["path", "ref"]


# -- the retention plan -------------------------------------------------------------------


def test_the_plan_lists_what_enforcement_would_delete_that_day(client, auth, ended_customer):
    due = client.get(f"{API}/plan?at={ended_customer}", **auth).json()
    assert due["at"] == str(ended_customer)
    assert {(d["type"], d["ref"]) for d in due["items"]} == {
        ("customer", "C-1"),
        ("person", "P-1"),
        ("agreement", "C-1-A0"),
    }
    assert {d["rule"] for d in due["items"]} == {"customer-data-after-relationship"}
    assert due["count"] == 3
    page = client.get(f"{API}/plan?at={ended_customer}&limit=2&offset=2&type=person", **auth)
    assert page.json()["count"] == 1 and page.json()["items"] == []
    day_before = client.get(f"{API}/plan?at=2025-03-14", **auth).json()
    assert day_before["count"] == 0 and day_before["items"] == []


@pytest.mark.parametrize("at", ["yesterday", "2025-02-30", "0001-01-01", "9999-12-31"])
def test_a_plan_for_no_real_day_is_422(client, auth, at):
    response = client.get(f"{API}/plan?at={at}", **auth)
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "at"]


# -- evidence -----------------------------------------------------------------------------


def test_evidence_newest_first_in_pages_and_the_chain_verified(client, token_for, entries):
    headers = bearer(token_for("evidence.view_entry"))  # its token's creation is entry 6
    page = client.get(f"{API}/evidence?limit=3&offset=1", **headers).json()
    assert page["count"] == 6
    assert [e["seq"] for e in page["items"]] == [5, 4, 3]
    assert page["items"][0]["refs"] == ["P-5"] and page["items"][0]["customers"] == ["C-5"]
    assert page["items"][0]["prev_hash"] == page["items"][1]["hash"]
    verified = client.get(f"{API}/evidence/verify", **headers).json()
    assert verified == {
        "ok": True,
        "count": 6,
        "head": Entry.objects.get(seq=6).hash,
        "bad_seq": None,
        "problem": "",
        "pruned": None,
    }

    Entry.objects.filter(seq=3).update(count=99)  # changed behind the log's back
    broken = client.get(f"{API}/evidence/verify", **headers).json()
    assert broken["ok"] is False and broken["bad_seq"] == 3


# -- the schema and the docs page ---------------------------------------------------------


def test_the_schema_and_the_docs_page_are_served_from_gallra_itself(client, db):
    schema = client.get(f"{API}/openapi.json").json()
    assert {"/api/v1/requests", "/api/v1/plan", "/api/v1/logins/events"} <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["Token"]["scheme"] == "bearer"
    page = client.get(f"{API}/docs")
    assert page.status_code == 200
    html = page.content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert scripts, html
    for attributes, _body in scripts:  # no inline code: the CSP allows only 'self' scripts
        assert 'src="/static/' in attributes or 'type="application/json"' in attributes
    assert not re.search(r"(src|href)=\"(https?:)?//", html)  # nothing from a CDN
    for asset in re.findall(r"(?:src|href)=\"(/static/[^\"]+)\"", html):
        assert client.get(asset).status_code == 200, asset
