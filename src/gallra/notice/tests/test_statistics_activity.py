"""The record of processing (Art. 30) has an activity for each cookie category a visitor
must say yes to that sets cookies (visitor statistics, embedded video): on consent, for the
website's visitors, the cookies and their durations, the third party that reads them."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.core.management import call_command

from gallra.notice.ropa import FIELDS, activities
from gallra.notice.tests.second_provider import (
    NAME,
    second_provider,
    second_provider_text,
    write_second_provider,
)
from gallra.policy.loading import load_policy, registry_fields


def by_name(policy, lang: str) -> dict[str, dict[str, str]]:
    return {row["activity"]: row for row in activities(policy, lang)}


def test_the_statistics_activity_in_swedish(tmp_path):
    rows = by_name(second_provider(tmp_path), "sv")
    stats = rows["Besöksstatistik på webbplatsen"]
    assert set(stats) == {key for key, *_ in FIELDS}
    assert all(value.strip() for value in stats.values())
    assert stats["purposes"].startswith("Räkna besök och förbättra webbplatsen.")
    assert "samtycke, art. 6.1 a dataskyddsförordningen" in stats["purposes"]
    assert "9 kap. 28 § lagen (2022:482) om elektronisk kommunikation" in stats["purposes"]
    assert stats["subjects"] == "besökare på webbplatsen"
    assert (
        "_pk_id*: Känner igen återkommande besökare i besöksstatistiken (13 månader)"
        in (stats["data"])
    )
    assert "_pk_ses*: Håller ihop ett besök (30 minuter)" in stats["data"]
    assert stats["erasure"].endswith("_pk_id*: 13 månader; _pk_ses*: 30 minuter")
    assert "återkallar sitt samtycke" in stats["erasure"]
    assert stats["recipients"] == "Inga"
    assert stats["transfers"] == "Inga: alla uppgifter stannar inom EU/EES (Sverige)."
    assert NAME in stats["controller"]
    assert "högst 14 dagar" in stats["security"]


def test_the_statistics_activity_in_english(tmp_path):
    stats = by_name(second_provider(tmp_path), "en")["Visitor statistics on the website"]
    assert "consent, GDPR Art. 6(1)(a)" in stats["purposes"]
    assert stats["subjects"] == "website visitors"
    assert "(30 minutes)" in stats["data"] and "(13 months)" in stats["data"]
    assert stats["erasure"].endswith("_pk_id*: 13 months; _pk_ses*: 30 minutes")


def test_an_embedded_service_names_its_provider_as_the_recipient(tmp_path):
    video = by_name(second_provider(tmp_path), "en")["Third-party functions on the website"]
    assert video["recipients"].startswith("Google Ireland Ltd (YouTube)")
    assert "Google Ireland Ltd (YouTube)" in video["transfers"]
    assert "VISITOR_INFO1_LIVE: 6 months" in video["erasure"]
    # The banner cannot delete another site's cookie: the record does not promise it.
    assert "withdraws consent" in video["erasure"] and "own cookies" in video["erasure"]


def test_only_optional_categories_that_set_cookies_are_activities(tmp_path):
    policy = second_provider(tmp_path)
    names = [row["activity"] for row in activities(policy, "en")]
    extra = names[len(policy.category) :]
    assert extra == ["Third-party functions on the website", "Visitor statistics on the website"]
    assert "Necessary on the website" not in names
    assert "Social sharing on the website" not in names  # declares no cookie


def test_a_third_party_statistics_cookie_and_a_provider_outside_sweden(tmp_path):
    text = second_provider_text().replace(
        'duration = "PT30M"', 'duration = "PT30M"\nthird_party = true'
    )
    text = re.sub(r'^country = "SE"', 'country = "FI"', text, count=1, flags=re.MULTILINE)
    text = text.replace('allowed_countries = ["SE"]', 'allowed_countries = ["SE", "FI"]')
    path = tmp_path / "finnish.toml"
    path.write_text(text, encoding="utf-8")
    stats = by_name(load_policy(path, registry_fields()), "en")["Visitor statistics on the website"]
    assert stats["recipients"].startswith("the third party that sets _pk_ses*")
    assert "Art. 5(3) of the ePrivacy Directive (2002/58/EC)" in stats["purposes"]
    assert "2022:482" not in stats["purposes"]


def test_gallra_report_ropa_has_the_activity(tmp_path, monkeypatch):
    monkeypatch.setenv("GALLRA_POLICY", str(write_second_provider(tmp_path)))
    out = io.StringIO()
    call_command("report", "ropa", "--format", "json", "--lang", "en", stdout=out)
    data = json.loads(out.getvalue())
    assert "Visitor statistics on the website" in [a["activity"] for a in data["activities"]]
    out = io.StringIO()
    call_command("report", "ropa", "--format", "csv", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    stats = next(r for r in rows if r[0] == "Besöksstatistik på webbplatsen")
    assert "_pk_ses*: 30 minuter" in stats[7]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_jufcorp_records_its_statistics_too(lang, db):
    from gallra.policy.loading import current_policy

    names = [row["activity"] for row in activities(current_policy(), lang)]
    assert {"sv": "Besöksstatistik på webbplatsen", "en": "Visitor statistics on the website"}[
        lang
    ] in names
