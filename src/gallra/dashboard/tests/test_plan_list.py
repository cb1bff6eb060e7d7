"""The list behind a bar of the deletion chart: records by ref, for staff only."""

import re
from datetime import timedelta

from django.contrib.auth.models import User

from gallra.dashboard.tests.conftest import NAME, fill
from gallra.instance.demo import years_before
from gallra.registry.importing import import_document

RULE = "customer-data-after-relationship"


def listed(client, **params) -> str:
    response = client.get("/admin/dashboard/plan/", params, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


def test_a_day_lists_what_the_rule_deletes_then_by_ref(ceo, today):
    day = today + timedelta(days=4)
    ended = years_before(day, 1)
    import_document(
        {
            "customers": [
                {
                    "ref": "C-1",
                    "name": f"{NAME} AB",
                    "agreements": [
                        {"ref": "C-1-A", "start": "2015-01-01", "end": ended.isoformat()}
                    ],
                    "people": [{"ref": "C-1-P", "first_name": "Greta", "last_name": NAME}],
                },
                {
                    "ref": "C-2",
                    "name": "Kvar AB",
                    "agreements": [{"ref": "C-2-A", "start": "2015-01-01", "end": None}],
                },
            ]
        }
    )
    page = listed(ceo, rule=RULE, on=day.isoformat())
    rows = page.count("<tr><td>")
    assert rows == 3 and "C-2" not in page and NAME not in page and "Greta" not in page
    for ref in ("C-1", "C-1-A", "C-1-P"):
        assert re.search(
            f'<tr><td><a href="/admin/registry/[a-z]+/\\d+/change/">{ref}</a></td>'
            f"<td>{RULE}</td><td>{day:%Y-%m-%d}</td>",
            page,
        ), ref
    assert "<tr><td>" not in listed(ceo, rule=RULE, on=(day - timedelta(days=1)).isoformat())


def test_the_window_lists_every_day_of_a_rule(ceo, staff, today):
    fill(30, today)
    page = listed(ceo, rule=RULE, on=today.isoformat(), to=(today + timedelta(days=30)).isoformat())
    assert {f"C-{i}" for i in range(30)} <= set(re.findall(r"<tr><td><a [^>]+>([^<]+)</a>", page))


def test_a_bad_rule_or_day_is_not_found(ceo, today):
    assert ceo.get("/admin/dashboard/plan/", {"rule": "nope"}).status_code == 404
    assert ceo.get("/admin/dashboard/plan/", {"rule": RULE, "on": "31/12"}).status_code == 404
    past = (today - timedelta(days=1)).isoformat()
    assert ceo.get("/admin/dashboard/plan/", {"rule": RULE, "on": past}).status_code == 404


def test_only_staff_may_look(client, db):
    assert client.get("/admin/dashboard/plan/", {"rule": RULE}).status_code == 302
    client.force_login(User.objects.create_user("kund", password="x" * 16))
    response = client.get("/admin/dashboard/plan/", {"rule": RULE})
    assert response.status_code == 302 and "/login/" in response["Location"]
