"""The privacy notice is generated from the policy and covers every promise of it."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command

from gallra import config
from gallra.notice.content import render
from gallra.policy.loading import current_policy, load_policy, registry_fields


class ClauseText(HTMLParser):
    """The text of every element marked data-clauses, per clause."""

    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, list[str]]] = []
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        clauses = dict(attrs).get("data-clauses", "")
        self.stack.append((tag, clauses.split()))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, clauses in self.stack:
            for clause in clauses:
                self.text[clause] = self.text.get(clause, "") + " " + data


def by_clause(html: str) -> dict[str, str]:
    parser = ClauseText()
    parser.feed(html)
    return {k: " ".join(v.split()) for k, v in parser.text.items()}


def rule(policy, rule_id):
    return next(r for r in policy.rule if r.id == rule_id)


def years(duration) -> str:
    return f"{duration.years} år"


# For each clause of JufCorp's published policy, what its statement in the notice must say.
# Durations and names are read from the policy, so the notice must follow the file.
def expectations(policy) -> dict[str, list[str]]:
    after_end = rule(policy, "customer-data-after-relationship")
    closed = rule(policy, "closed-account")
    mail = rule(policy, "correspondence-and-sales")
    books = rule(policy, "accounting-records")
    return {
        "P1": [
            "förnamn",
            "efternamn",
            "e-post",
            "postadress",
            "mobilnummer",
            "Teknisk dokumentation",
            "Nödvändiga lösenord",
        ],
        "P2": ["Kontakta användare i supportärenden", "verifiera kunden"],
        "P3": ["hemkatalog", "uttrycklig överenskommelse"],
        "P4": ["Beställningar och förfrågningar", "Spårbarhet"],
        "P5": [f"{years(after_end.keep_for)} efter att det sista avtalet har upphört"],
        "P6": ["Inloggningar loggas", f"/{policy.logins.ipv4_prefix}", "land"],
        "P7": ["myndighet"],
        "P8": [f"minst {policy.security.password_min_length} tecken", "två faktorer"],
        "P9": ["varumärken"],
        "P10": ["inga tredjepartsleverantörer", "servrar är inte tillgängliga för tredje part"],
        "P11": ["krypterade", f"högst {policy.backups.window.days} dagar"],
        "P12": ["Sverige"],
        "P13": ["Faktureringsunderlag", "pseudonym", "fakturaansvariga"],
        "P14": ["delar inga uppgifter med tredje part", "reklamutskick"],
        "P15": [
            f"{years(after_end.keep_for)} efter att det sista avtalet har upphört",
            f"{years(closed.keep_for)} efter att kontot har stängts",
        ],
        "P16": ["Telefonkontakter", "raderas för hand"],
        "P17": ["Bokföringslagen", f"{years(books.keep_for)} efter utgången av det kalenderår"],
        "P18": ["inget kvar som kan återskapas"],
        "P19": [
            f"{mail.keep_for.months} månader efter den senaste aktiviteten",
            "pågående förhandling",
        ],
        "P20": ["webbplats sparar inga personuppgifter"],
        "P21": ["kontaktformuläret", "e-post"],
        "P22": ["Ytterst ansvarig är VD"],
        "P23": [c.name["sv"] for c in policy.cookies.category],
        "P24": [
            "rättade",
            "raderade",
            "begränsas",
            "maskinläsbart",
            "invända",
            "integritetscenter",
        ],
    }


def test_every_clause_of_the_policy_is_in_the_notice(db):
    policy = current_policy()
    sections = by_clause(render(policy, "sv"))
    for clause, phrases in expectations(policy).items():
        assert clause in sections, f"{clause} has no statement in the notice"
        for phrase in phrases:
            assert phrase in sections[clause], f"{clause}: {phrase!r} not in its statement"


def test_changing_a_retention_duration_changes_the_notice(tmp_path, monkeypatch, db):
    text = config.DEFAULT_POLICY.read_text(encoding="utf-8")
    old = 'last agreement ended\nkeep_for = "P1Y"'
    edited = text.replace(old, old.replace("P1Y", "P2Y"))
    assert edited != text
    path = tmp_path / "policy.toml"
    path.write_text(edited, encoding="utf-8")
    policy = load_policy(path, registry_fields())
    sections = by_clause(render(policy, "sv"))
    assert "2 år efter att det sista avtalet har upphört" in sections["P15"]
    assert "1 år efter att det sista avtalet har upphört" not in sections["P15"]
    assert "1 år efter att kontot har stängts" in sections["P15"]  # the other rule is unchanged


def test_the_notice_in_english_says_the_same_things(db):
    sections = by_clause(render(current_policy(), "en"))
    assert "1 year after the last agreement ends" in sections["P15"]
    assert "at most 7 days" in sections["P11"]
    assert "Sweden" in sections["P12"]
    assert "first name" in sections["P1"]


def test_the_notice_is_served_and_written_as_a_file(client, tmp_path, db):
    page = client.get("/privacy/")
    assert page.status_code == 200 and "Integritetspolicy för Red Cloud IT" in page.text
    english = client.get("/privacy/?lang=en")
    assert "Privacy notice of Red Cloud IT" in english.text
    out = tmp_path / "notice.html"
    call_command("notice", "--lang", "en", "--out", str(out), stdout=io.StringIO())
    assert out.read_text() == english.text


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_notice_leaves_no_placeholder_or_empty_field(lang, db):
    html = render(current_policy(), lang)
    assert not re.search(r"\{\w+\}|None|<dd>\s*</dd>", html)
