"""One truth in what a provider's visitors read (issue 19): every duration, window, country,
password rule and reveal period in the notice and the record of processing is said from the
policy's keys, never from free text; clause ids appear only for a policy that has them;
opening hours and areas of responsibility are in the reader's language; and no page names
JufCorp for another provider. Tried on a second provider's policy (second_provider.py)."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from django.core.management import call_command

from gallra import config
from gallra.consent.config import banner_config
from gallra.notice import ropa
from gallra.notice.content import render
from gallra.notice.tests.second_provider import (
    NAME,
    second_provider,
    second_provider_text,
    write_second_provider,
)
from gallra.policy.loading import PolicyError, current_policy, load_policy, registry_fields

CLAUSE = re.compile(r"\bP\d+\b")  # "P11", never "P14D" or "P6M"


def text_of(page: str) -> str:
    """What a reader sees of an HTML page: its words, without tags or style sheet."""
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture
def policy(tmp_path):
    return second_provider(tmp_path)


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


SAID = {
    "sv": {
        "backups": "krypterade och sparas i högst 14 dagar, i Sverige",
        "passwords": "minst 14 tecken och inloggning kräver två faktorer",
        "reveal": "i högst 3 månader; därefter går den inte att återskapa",
        "countries": "Alla uppgifter finns inom Sverige",
        "never": ("en vecka", "7 dagar, i Sverige", "12 tecken", "högst 6 månader"),
    },
    "en": {
        "backups": "encrypted and kept for at most 14 days, in Sweden",
        "passwords": "at least 14 characters and login needs two factors",
        "reveal": "for at most 3 months; after that it cannot be recovered",
        "countries": "All data stays within Sweden",
        "never": ("one week", "7 days, in Sweden", "12 characters", "at most 6 months"),
    },
}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_notice_and_every_record_row_say_the_policys_values(policy, lang):
    said = SAID[lang]
    notice = text_of(render(policy, lang))
    rows = ropa.activities(policy, lang)
    assert rows
    for where in [notice, *(row["security"] for row in rows)]:
        for key in ("backups", "passwords", "reveal", "countries"):
            assert said[key] in where, key
        for wrong in said["never"]:
            assert wrong not in where


def test_a_policy_without_clauses_shows_no_clause_id_anywhere(
    policy, tmp_path, monkeypatch, client
):
    assert not any(c.clauses for c in policy.category)
    assert not any(r.clauses for r in policy.rule)
    shown = {}
    for lang in ("sv", "en"):
        shown[f"notice {lang}"] = render(policy, lang)
        shown[f"banner {lang}"] = json.dumps(banner_config(policy, lang, ""), ensure_ascii=False)
        for fmt in ("html", "csv", "json"):
            shown[f"record {fmt} {lang}"] = ropa.render(policy, fmt, lang)
    monkeypatch.setenv("GALLRA_POLICY", str(write_second_provider(tmp_path)))
    shown["gallra notice"] = run("notice", "--lang", "en")
    shown["gallra report ropa"] = run("report", "ropa", "--format", "csv")
    shown["gallra policy show"] = run("policy", "show")
    for url in ("/privacy/", "/privacy/?lang=en", "/privacy/centre/", "/consent/config?lang=sv"):
        page = client.get(url)
        assert page.status_code == 200, url
        shown[url] = page.content.decode()
    assert NAME in shown["/privacy/"]
    for where, text in shown.items():
        assert not CLAUSE.search(text), f"{where}: {CLAUSE.search(text).group()}"
        assert "data-clauses" not in text and "()" not in text_of(text), where


def test_jufcorp_keeps_its_clause_ids(db):
    page = render(current_policy(), "sv")
    assert 'data-clauses="P11 P18"' in page and "(P11, P18)" in page
    assert '<p class="clauses">P1, P2, P5, P15, P18</p>' in page
    assert 'data-clauses="P24"' in page


def test_opening_hours_are_in_the_readers_language(policy):
    swedish, english = text_of(render(policy, "sv")), text_of(render(policy, "en"))
    assert "(Mån–fre 08–17)" in swedish and "Mon–Fri" not in swedish
    assert "(Mon–Fri 08–17)" in english and "Mån" not in english
    jufcorp = text_of(render(load_policy(config.DEFAULT_POLICY, registry_fields()), "en"))
    assert "Mon–Fri" in jufcorp and "Mån" not in jufcorp


def test_opening_hours_as_one_string_still_work(tmp_path):
    text = re.sub(
        r"^opening_hours = .*$",
        'opening_hours = "09–17"',
        second_provider_text(),
        flags=re.MULTILINE,
    )
    path = tmp_path / "plain.toml"
    path.write_text(text, encoding="utf-8")
    policy = load_policy(path, registry_fields())
    for lang in ("sv", "en"):
        assert "+46 709 666 997 (09–17)" in text_of(render(policy, lang))


def test_opening_hours_must_have_every_language(tmp_path):
    text = re.sub(
        r"^opening_hours = .*$",
        'opening_hours = { sv = "Mån–fre 08–17" }',
        second_provider_text(),
        flags=re.MULTILINE,
    )
    path = tmp_path / "one-language.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"organisation\.opening_hours.*lacks the language"):
        load_policy(path, registry_fields())


def test_the_areas_of_responsibility_are_named_in_the_readers_language(policy):
    swedish, english = text_of(render(policy, "sv")), text_of(render(policy, "en"))
    for said in (
        "kunduppgifter: Tekniker",
        "korrespondens: Försäljning",
        "inloggningar: Tekniker",
        "säkerhetskopior: Tekniker",
        "webbplatsen: Försäljning",
        "bokföring: Ekonomi",
    ):
        assert said in swedish
    for english_word in ("customer data", "customer_data", "correspondence:", "backups:"):
        assert english_word not in swedish
    assert "customer data: Technician" in english and "accounting: Finance" in english


def test_the_demo_page_names_the_provider_whose_policy_it_runs(client, tmp_path, monkeypatch):
    assert "Red Cloud IT" in client.get("/consent/demo/").content.decode()
    monkeypatch.setenv("GALLRA_POLICY", str(write_second_provider(tmp_path)))
    for url in ("/consent/demo/", "/consent/demo/?lang=en"):
        page = client.get(url).content.decode()
        assert NAME in page
        assert "Red Cloud" not in page and "JufCorp" not in page
