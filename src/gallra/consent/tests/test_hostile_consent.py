"""The public decision endpoint against hostile clients (issue 16, items 6 and 7): JSON made
to crash a parser or a database is answered 400 naming the place and stores nothing; nobody
can grow the decision table without end, and no real decision is lost on the way."""

from __future__ import annotations

import io
import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gallra import strictjson
from gallra.consent.config import banner_config
from gallra.consent.limits import ClientLimit
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


def post_raw(client, body: bytes | str, **headers):
    return client.post("/consent/decisions", body, content_type="text/plain", **headers)


def post(client, data, **headers):
    return post_raw(client, json.dumps(data), **headers)


def call_wsgi(body: bytes, stream=None, **environ):
    from gallra.wsgi import application

    started = {}
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/consent/decisions",
        "HTTP_HOST": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": stream or io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
        "SERVER_NAME": "127.0.0.1",
        "REMOTE_ADDR": "192.0.2.10",
    } | environ
    chunks = application(env, lambda status, headers: started.update(s=status))
    return started["s"], b"".join(chunks)


# -- item 7: JSON that breaks parsers or databases --------------------------------------------


def with_raw(shown, key: str, raw: str) -> str:
    """A decision whose `key` holds `raw` JSON text exactly as written."""
    data = decision(shown, **{key: "@@"})
    return json.dumps(data).replace('"@@"', raw)


def deep(levels: int, inner: str = "true") -> str:
    return "[" * levels + inner + "]" * levels


def hostile_bodies(shown) -> list[tuple[str, str | bytes, str]]:
    """(what, body, the error the endpoint must give), each error worked out by hand."""
    good = decision(shown)
    cats = json.dumps(good["categories"])
    return [
        ("4,000 arrays deep", deep(4000), "[0][0][0]: nested deeper than 3 levels"),
        (
            "1,300 objects deep",
            '{"a":' * 1300 + "1" + "}" * 1300,
            "a.a.a: nested deeper than 3 levels",
        ),
        (
            "deep inside a service",
            with_raw(shown, "services", '{"youtube": ' + deep(3500) + "}"),
            "services.youtube[0]: nested deeper than 3 levels",
        ),
        (
            "a little too deep",
            with_raw(shown, "services", '{"youtube": [[false]]}'),
            "services.youtube[0]: nested deeper than 3 levels",
        ),
        (
            "a 5,000-digit revision",
            with_raw(shown, "revision", "9" * 5000),
            "revision: a number of 5000 characters (at most 40)",
        ),
        (
            "1e999999999",
            with_raw(shown, "revision", "1e999999999"),
            "revision: 1e999999999 is too large for a number",
        ),
        ("NaN", with_raw(shown, "revision", "NaN"), "revision: NaN is not a JSON number"),
        (
            "Infinity in a category",
            with_raw(shown, "categories", cats.replace("true", "Infinity")),
            "categories.statistics: Infinity is not a JSON number",
        ),
        (
            "-Infinity",
            with_raw(shown, "revision", "-Infinity"),
            "revision: -Infinity is not a JSON number",
        ),
        (
            "beyond 64 bits",
            with_raw(shown, "revision", str(2**64)),
            "revision: an integer outside the 64-bit range",
        ),
        (
            "a NUL in the id",
            with_raw(shown, "id", '"6f1c2b1e\\u0000"'),
            "id: the text holds a NUL character",
        ),
        (
            "a NUL in a key",
            with_raw(shown, "categories", '{"statistics\\u0000": true}'),
            'categories["statistics\\u0000"]: the key holds a NUL character',
        ),
        (
            "a lone surrogate",
            with_raw(shown, "lang", '"s\\ud800v"'),
            "lang: the text holds a lone surrogate (not Unicode)",
        ),
        (
            "a duplicate key",
            json.dumps(good)[:-1] + ', "action": "accept_all"}',
            "action: the key appears more than once",
        ),
        (
            "a duplicate key inside",
            with_raw(shown, "categories", cats[:-1] + ', "statistics": false}'),
            "categories.statistics: the key appears more than once",
        ),
        (
            "a 7,000-character id",
            with_raw(shown, "id", json.dumps("a" * 7000)),
            "id: a random UUID (version 4) made by the browser",
        ),
        (
            "true as revision",
            with_raw(shown, "revision", "true"),
            "revision: the banner revision, a whole number",
        ),
        ("not UTF-8", json.dumps(good).encode().replace(b'"sv"', b'"s\xffv"'), "not UTF-8 (byte"),
        (
            "a byte order mark",
            "\ufeff" + json.dumps(good),
            "starts with a byte order mark (send plain UTF-8)",
        ),
        ("two values", json.dumps(good) + " {}", "line 1: more after the JSON value"),
        ("nothing", "", "line 1 column 1: Expecting value"),
        ("a list", "[1, 2]", "a decision is a JSON object"),
        (
            "a string category",
            with_raw(shown, "categories", cats.replace("true", '"yes"')),
            "categories.statistics: only true or false",
        ),
    ]


def test_hostile_json_is_refused_naming_the_place_and_nothing_is_stored(client, shown):
    for what, body, error in hostile_bodies(shown):
        response = post_raw(client, body)
        assert response.status_code == 400, what
        assert error in response.json()["error"], (what, response.json())
    assert not ConsentDecision.objects.exists()


def test_the_wsgi_path_refuses_the_same_way(shown):
    for what, body, error in hostile_bodies(shown):
        status, answer = call_wsgi(body if isinstance(body, bytes) else body.encode())
        assert status == "400 Bad Request", what
        assert error in json.loads(answer)["error"], what
    assert not ConsentDecision.objects.exists()


def test_too_large_bodies_are_refused_before_they_are_read(client, shown):
    padded = json.dumps(decision(shown) | {"pad": "x" * 9000})
    assert post_raw(client, padded).status_code == 413
    huge = io.BytesIO(b"x" * (10 << 20))
    status, _ = call_wsgi(b"", stream=huge, CONTENT_LENGTH=str(10 << 20))
    assert status == "413 Payload Too Large" and huge.tell() == 8193  # one byte past the limit
    unread = io.BytesIO(json.dumps(decision(shown)).encode())
    status, _ = call_wsgi(b"", stream=unread, CONTENT_LENGTH="-1")  # not "read it all"
    assert status == "400 Bad Request" and unread.tell() == 0
    status, _ = call_wsgi(b"", CONTENT_LENGTH="many")
    assert status == "400 Bad Request"
    assert not ConsentDecision.objects.exists()


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ('{"events": [{"user": "a"}, {"user": "b\\u0000"}]}', "events[1].user", "NUL"),
        ('{"events": [1, 2, NaN]}', "events[2]", "NaN is not a JSON number"),
        ('{"a": {"b c": {"d": 1, "d": 2}}}', 'a["b c"].d', "more than once"),
        ("[" * 40 + "]" * 40, "[0]" * 32, "nested deeper than 32 levels"),
        ('{"x": 1e400}', "x", "too large"),
        ('{"x": "\\udc00"}', "x", "lone surrogate"),
    ],
)
def test_the_shared_reader_names_the_place(text, where, message):
    with pytest.raises(strictjson.JSONError) as refused:
        strictjson.loads(text.encode())
    assert refused.value.where == where and message in refused.value.message
    with pytest.raises(strictjson.JSONError, match="decision"):
        strictjson.loads(text, root="decision")  # a str too; the root names the document


def test_the_shared_reader_keeps_what_is_fine():
    text = '{"a": [1, -2, 3.5, "\\ud83d\\ude00", "\\\\u0000", null, true], "b": {}}'
    assert strictjson.loads(text) == {"a": [1, -2, 3.5, "😀", "\\u0000", None, True], "b": {}}
    assert strictjson.loads(b" \n[[1]]\n", max_depth=2) == [[1]]
    with pytest.raises(strictjson.JSONError, match="more than the 10 allowed"):
        strictjson.loads(b"[" + b"1," * 10 + b"1]", max_bytes=10)


# -- item 6: bounded, without losing a real decision -----------------------------------------


def test_a_repeated_decision_is_not_stored_again_but_a_changed_mind_is(client, shown):
    first = decision(shown)
    assert post(client, first).status_code == 201
    again = post(client, first)  # a reload, a double click, a replayed request
    assert again.status_code == 200 and again.json() == {
        "id": first["id"],
        "stored": True,
        "repeated": True,
    }
    none = {"statistics": False, "social_sharing": False, "third_party_functions": False}
    changed = [
        first | {"action": "reject_all", "categories": none},
        first | {"action": "accept_all", "categories": dict.fromkeys(none, True)},
        first,
    ]  # and back to the first choice: a change again
    assert [post(client, d).status_code for d in changed] == [201, 201, 201]
    stored = ConsentDecision.objects.filter(consent_id=first["id"]).order_by("at", "pk")
    assert [d.action for d in stored] == ["custom", "reject_all", "accept_all", "custom"]


def alternating(consent_id: str, shown, n: int) -> list[dict]:
    none = {"statistics": False, "social_sharing": False, "third_party_functions": False}
    yes = dict.fromkeys(none, True)
    return [
        decision(
            shown,
            id=consent_id,
            action="reject_all" if i % 2 else "accept_all",
            categories=none if i % 2 else yes,
        )
        for i in range(n)
    ]


def test_a_consent_id_stores_at_most_twenty_decisions_a_day(client, shown):
    consent_id = str(uuid.uuid4())
    statuses = [post(client, d).status_code for d in alternating(consent_id, shown, 23)]
    # The 21st is one change too many; the 22nd repeats the last one stored (index 19), so
    # the visitor's choice is on record already; the 23rd is a change again.
    assert statuses == [201] * 20 + [429, 200, 429]
    assert ConsentDecision.objects.filter(consent_id=consent_id).count() == 20
    assert post(client, decision(shown)).status_code == 201  # another visitor is not affected


def stored_earlier(consent_id: str, shown, n: int, ago: timedelta) -> None:
    for i, data in enumerate(alternating(consent_id, shown, n)):
        ConsentDecision.objects.create(
            consent_id=consent_id,
            action=data["action"],
            categories=data["categories"],
            services=data["services"],
            banner_revision=shown["revision"],
            policy_revision=current_policy().revision,
            text_hash=shown["hash"],
            locale="sv",
            at=timezone.now() - ago - timedelta(seconds=i),
        )


def test_the_day_is_the_last_24_hours(client, shown):
    within, before = str(uuid.uuid4()), str(uuid.uuid4())
    stored_earlier(within, shown, 20, timedelta(hours=23))
    stored_earlier(before, shown, 20, timedelta(hours=25))
    assert post(client, decision(shown, id=within)).status_code == 429
    assert post(client, decision(shown, id=before)).status_code == 201


def test_a_renewal_of_the_same_choice_is_stored_as_new_proof(client, shown):
    """Asked again months later, the visitor chooses the same: that is a new decision."""
    consent_id = str(uuid.uuid4())
    stored_earlier(consent_id, shown, 1, timedelta(days=183))
    old = ConsentDecision.objects.get(consent_id=consent_id)
    same = decision(shown, id=consent_id, action=old.action, categories=old.categories)
    assert post(client, same).status_code == 201
    assert ConsentDecision.objects.filter(consent_id=consent_id).count() == 2


def test_one_client_is_limited_per_minute_and_per_day(client, shown, settings):
    settings.GALLRA_CONSENT_RATE = (3, 5)
    here = Client(REMOTE_ADDR="203.0.113.9")
    assert [post(here, decision(shown)).status_code for _ in range(4)] == [201, 201, 201, 429]
    assert post(Client(REMOTE_ADDR="203.0.113.10"), decision(shown)).status_code == 201
    assert ConsentDecision.objects.count() == 4  # the refused one is not stored

    limit = ClientLimit()
    counted = [limit.over("192.0.2.1", now=t) for t in (0, 1, 2, 3)]
    assert counted == [False, False, False, True]  # 3 a minute
    later = [limit.over("192.0.2.1", now=t) for t in (61, 62, 121)]
    assert later == [False, True, True]  # 5 a day, though each minute is new
    assert limit.over("192.0.2.1", now=86400 + 1) is False  # a new day


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),  # one /64: one household
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        ("::ffff:192.0.2.7", "192.0.2.7", True),  # IPv4-mapped is the IPv4 address
        ("192.0.2.7", "192.0.2.8", False),
        ("fe80::1%eth0", "fe80::2%eth1", True),
    ],
)
def test_a_client_is_an_ipv4_address_or_an_ipv6_64(settings, first, second, same):
    settings.GALLRA_CONSENT_RATE = (1, 100)
    limit = ClientLimit()
    assert limit.over(first, now=0) is False
    assert limit.over(second, now=1) is same
    assert all(len(key) == 16 for key in limit.counts)  # digests only
    assert not any(first.split("%")[0].encode() in key for key in limit.counts)


def test_identical_posts_at_once_store_one_decision(shown):
    same = decision(shown)
    statuses = []

    def send():
        statuses.append(post(Client(), same).status_code)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 7 + [201]
    assert ConsentDecision.objects.filter(consent_id=same["id"]).count() == 1


def test_a_flood_of_changes_at_once_stores_at_most_the_cap(shown):
    consent_id = str(uuid.uuid4())
    statuses = []

    def send(data, address):
        statuses.append(post(Client(REMOTE_ADDR=address), data).status_code)

    threads = [
        threading.Thread(target=send, args=(d, f"198.51.100.{i}"))
        for i, d in enumerate(alternating(consent_id, shown, 40))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = ConsentDecision.objects.filter(consent_id=consent_id).count()
    assert rows == statuses.count(201) <= 20  # in whatever order they came, never past the cap
    assert sorted(set(statuses)) <= [200, 201, 429] and len(statuses) == 40
