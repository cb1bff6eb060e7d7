"""One truth: a text of the policy states no duration, and names no country the structured
values do not allow (policy/freetext.py, docs/policy-file.md "One truth").

Each broken file is Nordhav's filled-in template (nordhav.py) with one text changed.
"""

from __future__ import annotations

import pytest

from gallra.config import DEFAULT_POLICY as SHIPPED
from gallra.policy.loading import PolicyError, load_policy, registry_fields
from gallra.policy.tests.nordhav import nordhav_text


def problems_of(tmp_path, text: str) -> list[str]:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    try:
        load_policy(path, registry_fields())
    except PolicyError as exc:
        return [str(p) for p in exc.problems]
    return []


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


MEASURES_SV = "Tvåfaktorsinloggning och krypterade säkerhetskopior."
MEASURES_EN = "Two-factor login and encrypted backups."
REQUESTS_EN = "Counted from the day the request was closed; an open request is never deleted."


EN, SV = "English", "Swedish"
CASES = [
    (MEASURES_EN, "Kept at most one week.", "security.measures.en", EN, "one week"),
    (MEASURES_EN, "Backups are kept 7 days.", "security.measures.en", EN, "7 days"),
    (MEASURES_SV, "Kopior sparas en vecka.", "security.measures.sv", SV, "en vecka"),
    (MEASURES_SV, "Kopior sparas i 14 dagar.", "security.measures.sv", SV, "14 dagar"),
    ("Företagets e-postlådor.", "I sex månader.", "category[7].held_outside.sv", SV, "sex månader"),
    ("Make quotes.", "Quotes valid for 2 years.", "category[8].purpose.en", EN, "2 years"),
    (REQUESTS_EN, "Kept ett år after closing.", "rule[6].description.en", EN, "ett år"),
    (
        "Stores your cookie choice.",
        "For a 12-month period.",
        "cookies.category[0].cookie[0].purpose.en",
        EN,
        "12-month",
    ),
    ("Weekdays 08–17", "Weekdays, P1D notice", "organisation.opening_hours.en", EN, "P1D"),
]


@pytest.mark.parametrize(("old", "new", "key", "language", "phrase"), CASES)
def test_a_duration_in_a_text_is_refused_naming_field_and_language(
    tmp_path, old, new, key, language, phrase
):
    text = edit(nordhav_text(), old, new)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if new in s)

    found = problems_of(tmp_path, text)

    assert len(found) == 1, found
    assert found[0].startswith(f"{tmp_path / 'policy.toml'}:{line}: {key}: ")
    assert f'states a duration in {language}: "{phrase}"' in found[0]


def test_a_text_for_every_language_names_no_language(tmp_path):
    text = edit(
        nordhav_text(),
        f'measures = {{ sv = "{MEASURES_SV}", en = "{MEASURES_EN}" }}',
        'measures = "Backups: 14 days."',
    )
    (problem,) = problems_of(tmp_path, text)
    assert ': security.measures: states a duration in every language: "14 days"' in problem


@pytest.mark.parametrize(
    "words",
    [
        "Checked once a year and twice a day.",
        "Under Bokföringslagen (1999:1078) 7 kap. 2 § and GDPR art. 30.",
        "Open weekdays 08–17, answered the same day.",
        "A second factor for every login.",
    ],
)
def test_a_text_without_a_duration_passes(tmp_path, words):
    assert problems_of(tmp_path, edit(nordhav_text(), MEASURES_EN, words)) == []


def test_a_country_the_policy_does_not_allow_is_refused(tmp_path):
    text = edit(nordhav_text(), "The company's mailboxes.", "Mailboxes hosted in Germany.")
    text = edit(text, "Företagets e-postlådor.", "E-postlådor i Sverige.")  # allowed: SE

    (problem,) = problems_of(tmp_path, text)

    assert ": category[7].held_outside.en: names a country in English: " in problem
    assert '"Germany" (DE)' in problem and "(SE)" in problem


def test_a_swedish_country_name_is_read_in_the_swedish_text(tmp_path):
    text = edit(nordhav_text(), "Företagets e-postlådor.", "E-postlådor på Irlands servrar.")
    (problem,) = problems_of(tmp_path, text)
    assert "category[7].held_outside.sv: names a country in Swedish: " in problem
    assert '"Irlands" (IE)' in problem


def test_a_country_the_policy_allows_may_be_named(tmp_path):
    text = edit(nordhav_text(), "The company's mailboxes.", "Mailboxes hosted in Germany.")
    text = edit(text, 'allowed_countries = ["SE"]', 'allowed_countries = ["SE", "DE"]')
    assert problems_of(tmp_path, text) == []


def test_the_shipped_policy_states_its_backup_window_only_once(tmp_path):
    """JufCorp's measures said "at most one week" next to backups.window = "P7D"."""
    shipped = SHIPPED.read_text(encoding="utf-8")
    assert "one week" not in shipped and "en vecka" not in shipped
    assert problems_of(tmp_path, shipped) == []
    again = shipped.replace("encrypted backups,", "encrypted backups kept at most one week,")
    (problem,) = problems_of(tmp_path, again)
    assert 'security.measures.en: states a duration in English: "one week"' in problem
