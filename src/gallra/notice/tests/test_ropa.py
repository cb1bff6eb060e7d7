"""`gallra report ropa`: the record of processing (Art. 30(1)) from the policy file."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra import config
from gallra.notice.ropa import FIELDS
from gallra.policy.loading import PolicyError, current_policy, load_policy, registry_fields


def report(*args) -> str:
    out = io.StringIO()
    call_command("report", "ropa", *args, stdout=out)
    return out.getvalue()


def cookie_activities(policy) -> list[str]:
    """The activities of the cookie categories a visitor says yes to that set cookies."""
    return [
        f"{c.name['sv']} på webbplatsen"
        for c in policy.cookies.category
        if not c.required and (c.cookie or any(s.cookie for s in c.service))
    ]


def test_every_activity_has_every_field_of_article_30(db):
    data = json.loads(report("--format", "json"))
    policy = current_policy()
    assert [a["activity"] for a in data["activities"]] == [
        c.name["sv"] for c in policy.category
    ] + cookie_activities(policy)
    assert "Besöksstatistik på webbplatsen" in cookie_activities(policy)
    for activity in data["activities"]:
        assert set(activity) == {key for key, *_ in FIELDS}
        for key, value in activity.items():
            assert value.strip(), f"{activity['activity']}: {key} is empty"
    letters = {letter for *_, letter in FIELDS if letter}
    assert letters == set("abcdefg")


def test_the_record_says_what_the_policy_says(db):
    rows = {a["activity"]: a for a in json.loads(report("--format", "json"))["activities"]}
    books = rows["Fakturor och räkenskapsinformation"]
    assert "Bokföringslagen (1999:1078) 7 kap. 2 §" in books["purposes"]
    assert "7 år efter utgången av det kalenderår" in books["erasure"]
    assert "JufCorp AB" in books["controller"] and "+46 709 666 997" in books["controller"]
    assert books["recipients"] == "Inga"
    assert "stannar inom EU/EES (Sverige)" in books["transfers"]
    assert "högst 7 dagar" in books["security"]
    assert rows["Korrespondens"]["subjects"] == (
        "kunder, användare, presumtiva kunder och besökare på webbplatsen"
    )


def test_csv_and_html_have_one_row_per_activity(db):
    rows = list(csv.reader(io.StringIO(report("--format", "csv", "--lang", "en"))))
    assert rows[0][0] == "Processing activity" and "(art. 30.1 g)" in rows[0][-1]
    policy = current_policy()
    assert len(rows) == 1 + len(policy.category) + len(cookie_activities(policy))
    html = report("--format", "html")
    assert html.count("<tr>") == 1 + len(policy.category) + len(cookie_activities(policy))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            'subjects = ["customers"]\n\n[[category]]\nid = "customer_contact"',
            '\n[[category]]\nid = "customer_contact"',
            "categories of data subjects",
        ),
        ("measures = {", "# measures = {", "describe the security measures"),
        ('phone = "+46 709 666 997"', "", "contact details"),
        ("recipient = []", "", None),
    ],
)
def test_a_policy_that_leaves_a_field_empty_fails_the_check(tmp_path, old, new, message):
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    assert text.count(old) == 1
    edited = text.replace(old, new)
    if message is None:  # a processor outside the EU/EEA without a safeguard
        edited = edited.replace(
            "share_with_third_parties = false", "share_with_third_parties = true"
        )
        edited += (
            '\n[[recipient]]\nid = "mail"\nname = "Mail Inc."\nkind = "processor"\n'
            'country = "US"\ncategories = ["customer_contact"]\npurpose = "Send mail."\n'
        )
        message = "outside the EU/EEA: name the safeguard"
    path = tmp_path / "policy.toml"
    path.write_text(edited, encoding="utf-8")
    with pytest.raises(PolicyError, match=message):
        load_policy(path, registry_fields())


def test_report_needs_a_valid_policy(tmp_path, monkeypatch, db):
    path = tmp_path / "broken.toml"
    path.write_text("revision = 1\n")
    monkeypatch.setenv("GALLRA_POLICY", str(path))
    with pytest.raises(CommandError, match="policy is not valid") as caught:
        report()
    assert caught.value.returncode == 2
