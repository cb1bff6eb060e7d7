"""The decision endpoint: what it stores, what it refuses, and from where."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from django.conf import settings
from django.test import Client

from gallra.consent.config import banner_config
from gallra.consent.models import ConsentDecision
from gallra.policy.loading import current_policy

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shown():
    return banner_config(current_policy(), "sv", "http://testserver")


def decision(shown, **changes) -> dict:
    data = {
        "id": str(uuid.uuid4()),
        "action": "custom",
        "revision": shown["revision"],
        "hash": shown["hash"],
        "lang": "sv",
        "services": {"youtube": False},
        "categories": {"statistics": True, "social_sharing": False, "third_party_functions": False},
    }
    return data | changes


def post(client, data, **headers):
    return client.post("/consent/decisions", json.dumps(data), content_type="text/plain", **headers)


def test_a_decision_is_stored_with_nothing_that_identifies_the_visitor(client, shown):
    data = decision(shown)
    response = post(client, data, HTTP_USER_AGENT="Mozilla/5.0 Test", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 201 and response.json() == {"id": data["id"], "stored": True}
    stored = ConsentDecision.objects.get()
    assert (stored.consent_id, stored.action, stored.categories) == (
        data["id"],
        "custom",
        data["categories"],
    )
    assert (stored.banner_revision, stored.policy_revision, stored.text_hash, stored.locale) == (
        shown["revision"],
        current_policy().revision,
        shown["hash"],
        "sv",
    )
    row = json.dumps(list(ConsentDecision.objects.values().get().values()), default=str)
    assert "198.51.100" not in row and "Mozilla" not in row


def test_a_decision_is_never_changed_or_deleted(client, shown):
    post(client, decision(shown))
    stored = ConsentDecision.objects.get()
    stored.action = "accept_all"
    with pytest.raises(ValueError, match="never changed"):
        stored.save()
    with pytest.raises(ValueError, match="never deleted"):
        stored.delete()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "123"}, "id: a random UUID"),
        ({"action": "maybe"}, "action: one of"),
        ({"lang": "de"}, "lang: one of"),
        ({"hash": "0" * 64}, "the banner has changed"),
        ({"revision": 99}, "the banner has changed"),
        ({"categories": {"statistics": True}}, "categories: true or false for each of"),
        (
            {
                "categories": {
                    "statistics": "yes",
                    "social_sharing": False,
                    "third_party_functions": False,
                }
            },
            "only true or false",
        ),
        ({"services": {"tracker": True}}, "services: true or false for any of"),
        ({"action": "reject_all"}, "every optional category and service must be false"),
        ({"action": "accept_all"}, "every optional category must be true"),
    ],
)
def test_a_bad_decision_is_refused_naming_the_field(client, shown, changes, message):
    response = post(client, decision(shown, **changes))
    assert response.status_code == 400 and message in response.json()["error"]
    assert not ConsentDecision.objects.exists()


def test_malformed_json_is_refused(client):
    response = client.post("/consent/decisions", "{not json", content_type="text/plain")
    assert response.status_code == 400 and not ConsentDecision.objects.exists()


def test_only_the_configured_origins_may_post(client, shown, settings):
    settings.GALLRA_CONSENT_ORIGINS = ["https://www.redcloud.example"]
    ok = post(client, decision(shown), HTTP_ORIGIN="https://www.redcloud.example")
    assert ok.status_code == 201
    assert ok["Access-Control-Allow-Origin"] == "https://www.redcloud.example"
    other = post(client, decision(shown), HTTP_ORIGIN="https://evil.example")
    assert other.status_code == 403 and "Access-Control-Allow-Origin" not in other
    preflight = client.options("/consent/decisions", HTTP_ORIGIN="https://www.redcloud.example")
    assert preflight.status_code == 204 and "POST" in preflight["Access-Control-Allow-Methods"]
    assert ConsentDecision.objects.count() == 1


def test_the_configuration_comes_from_the_policy(client):
    config = client.get("/consent/config?lang=en").json()
    assert config["lang"] == "en" and config["revision"] == current_policy().cookies.revision
    names = [c["name"] for c in config["categories"]]
    assert names == ["Necessary", "Third-party functions", "Social sharing", "Visitor statistics"]
    assert config["renew"] == {"years": 0, "months": 6, "days": 0}  # P6M (test_renewal.py)
    youtube = config["categories"][1]["services"][0]
    assert youtube["cookies"][0] == {
        "name": "VISITOR_INFO1_LIVE",
        "duration": "6 months",
        "purpose": "YouTube remembers settings for embedded video.",
        "third_party": True,
    }


def test_concurrent_decisions_are_all_stored(shown):
    """Many posts at once share transactions (group commit), and none is lost."""
    results = []

    def send(n, address):
        client = Client(REMOTE_ADDR=address)  # eight visitors, each below the client limit
        for _ in range(n):
            results.append(post(client, decision(shown)).status_code)

    threads = [threading.Thread(target=send, args=(25, f"198.51.100.{i}")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [201] * 200
    assert ConsentDecision.objects.count() == 200
    assert ConsentDecision.objects.values("consent_id").distinct().count() == 200


def call_wsgi(body: bytes, **environ):
    import io

    from gallra.wsgi import application

    started = {}
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/consent/decisions",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
    } | environ
    chunks = application(env, lambda status, headers: started.update(s=status, h=dict(headers)))
    return started["s"], started["h"], b"".join(chunks)


def test_gallra_serve_answers_decisions_in_front_of_django_the_same_way(shown, settings):
    settings.GALLRA_CONSENT_ORIGINS = ["https://www.redcloud.example"]
    data = decision(shown)
    status, headers, body = call_wsgi(
        json.dumps(data).encode(), HTTP_ORIGIN="https://www.redcloud.example"
    )
    assert status == "201 Created" and json.loads(body)["id"] == data["id"]
    assert headers["Access-Control-Allow-Origin"] == "https://www.redcloud.example"
    assert ConsentDecision.objects.get().consent_id == data["id"]
    status, _, body = call_wsgi(json.dumps(decision(shown, lang="de")).encode())
    assert status == "400 Bad Request" and b"lang: one of" in body
    status, _, _ = call_wsgi(b"{}", HTTP_ORIGIN="https://evil.example")
    assert status == "403 Forbidden"
    status, _, _ = call_wsgi(json.dumps(decision(shown)).encode(), HTTP_HOST="evil.example")
    assert status == "400 Bad Request"
    assert ConsentDecision.objects.count() == 1


@pytest.mark.skipif(
    not settings.GALLRA_JOB_QUEUE,
    reason="several writers need PostgreSQL: on SQLite one process writes (serve refuses more)",
)
def test_two_writers_deciding_for_the_same_visitor_store_a_repeat_once():
    """Two processes (`serve --workers 2`, or two machines) each have a writer of their own:
    the same decision reaching both at once is stored once, the other copy is a repeat."""
    from django.utils import timezone

    from gallra.consent.writer import DecisionWriter

    writers = [DecisionWriter(), DecisionWriter()]  # each thread has a connection of its own
    outcomes: list[str] = []
    try:
        for round_ in range(20):
            at = timezone.now()
            consent_id = str(uuid.uuid4())

            def send(writer: DecisionWriter, consent_id: str = consent_id, at=at) -> None:
                decision = ConsentDecision(
                    consent_id=consent_id,
                    action="accept_all",
                    categories={"statistics": True},
                    banner_revision=1,
                    policy_revision=1,
                    text_hash="0" * 64,
                    locale="sv",
                    at=at,
                )
                outcomes.append(writer.store(decision))

            threads = [threading.Thread(target=send, args=(w,)) for w in writers]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert ConsentDecision.objects.filter(consent_id=consent_id).count() == 1, round_
    finally:
        for writer in writers:
            writer.release()
    assert sorted(outcomes) == sorted(["repeated", "stored"] * 20)
