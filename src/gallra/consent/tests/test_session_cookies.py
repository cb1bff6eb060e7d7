"""Cookies that last until the browser closes (`duration = "session"`) or minutes and hours
(`"PT30M"`, Matomo's `_pk_ses`): the policy takes them, and the banner, the notice and the
record of processing say them as they are, not as "1 dag". Calendar durations keep working;
what is not a cookie's duration is refused at its line."""

from __future__ import annotations

import json

import pytest
from django.utils import translation

from gallra.consent.config import banner_config
from gallra.notice.content import render
from gallra.notice.tests.second_provider import second_provider, write_second_provider
from gallra.policy import describe
from gallra.policy.durations import parse_cookie_duration
from gallra.policy.loading import PolicyError, load_policy, registry_fields

SAID = {
    "sv": {
        "sessionid": "Sessionen (tills du stänger webbläsaren)",
        "_pk_ses*": "30 minuter",
        "_pk_id*": "13 månader",
        "gallra_consent": "6 månader",
    },
    "en": {
        "sessionid": "until you close the browser",
        "_pk_ses*": "30 minutes",
        "_pk_id*": "13 months",
        "gallra_consent": "6 months",
    },
}


def banner_durations(config: dict) -> dict[str, str]:
    cookies = [k for c in config["categories"] for k in c["cookies"]]
    cookies += [k for c in config["categories"] for s in c["services"] for k in s["cookies"]]
    return {k["name"]: k["duration"] for k in cookies}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_banner_says_session_and_minutes(tmp_path, lang):
    durations = banner_durations(banner_config(second_provider(tmp_path), lang, ""))
    for name, said in SAID[lang].items():
        assert durations[name] == said, name
    assert "1 dag" not in durations.values() and "1 day" not in durations.values()


def test_the_banner_served_to_a_website_says_them(client, tmp_path, monkeypatch):
    monkeypatch.setenv("GALLRA_POLICY", str(write_second_provider(tmp_path)))
    for lang in ("sv", "en"):
        config = json.loads(client.get(f"/consent/config?lang={lang}").content)
        assert banner_durations(config) == banner_durations(
            banner_config(second_provider(tmp_path), lang, "")
        )
        assert banner_durations(config)["_pk_ses*"] == SAID[lang]["_pk_ses*"]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_notices_cookie_list_says_them(tmp_path, lang):
    page = render(second_provider(tmp_path), lang)
    for name, said in SAID[lang].items():
        assert f"<td>{name}</td><td>" in page
        row = page.split(f"<td>{name}</td>", 1)[1].split("</tr>", 1)[0]
        assert f"<td>{said}</td>" in row, name


@pytest.mark.parametrize(
    ("text", "sv", "en"),
    [
        ("PT1H", "1 timme", "1 hour"),
        ("PT2H", "2 timmar", "2 hours"),
        ("PT1M", "1 minut", "1 minute"),
        ("PT1H30M", "1 timme 30 minuter", "1 hour 30 minutes"),
        ("PT48H", "48 timmar", "48 hours"),
        ("P1Y6M", "1 år 6 månader", "1 year 6 months"),
        ("P2W", "14 dagar", "14 days"),
    ],
)
def test_each_kind_of_duration_is_said_in_both_languages(text, sv, en):
    duration = parse_cookie_duration(text)
    for lang, said in (("sv", sv), ("en", en)):
        with translation.override(lang):
            assert describe.cookie_duration_text(duration) == said
    assert str(duration) == text


@pytest.mark.parametrize(
    ("duration", "message"),
    [
        ("PT", "not an ISO 8601 duration a cookie can have"),
        ("P", "not an ISO 8601 duration a cookie can have"),
        ("PT-5M", "not an ISO 8601 duration a cookie can have"),
        ("PT0.5H", "not an ISO 8601 duration a cookie can have"),
        ("PT30S", "not an ISO 8601 duration a cookie can have"),
        ("Session", "not an ISO 8601 duration a cookie can have"),
        ("30 minutes", "not an ISO 8601 duration a cookie can have"),
        ("P0D", "is no time at all"),
        ("PT0M", "is no time at all"),
        ("P0Y0M", "is no time at all"),
        ("P11Y", "longer than ten years"),
        ("PT100000H", "longer than ten years"),
        ("PT" + "9" * 5000 + "M", "longer than ten years"),
        ("P" + "9" * 5000 + "D", "not an ISO 8601 duration a cookie can have"),
    ],
)
def test_policy_check_refuses_what_is_not_a_cookies_duration(tmp_path, duration, message):
    path = write_second_provider(tmp_path, _pk_ses=duration)
    with pytest.raises(PolicyError) as caught:
        load_policy(path, registry_fields())
    problem = str(caught.value)
    assert message in problem
    assert "cookies.category[3].cookie[1].duration" in problem
    assert "session" in problem or "Max-Age" in problem  # it says what to write instead


def test_a_duration_that_is_not_a_string_is_refused(tmp_path):
    path = write_second_provider(tmp_path)
    text = path.read_text(encoding="utf-8").replace('duration = "PT30M"', "duration = 30")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match='must be a duration string such as "P6M", "PT30M"'):
        load_policy(path, registry_fields())


def test_consent_proofs_outlast_a_session_cookie(tmp_path):
    """The check that consent proofs are kept as long as any cookie set under a decision
    counts a session or 30-minute cookie as a day, and a calendar one as written."""
    assert str(parse_cookie_duration("session").bound()) == "P1D"
    assert str(parse_cookie_duration("PT30M").bound()) == "P1D"
    assert str(parse_cookie_duration("PT25H").bound()) == "P2D"
    assert str(parse_cookie_duration("P13M").bound()) == "P13M"
    path = write_second_provider(tmp_path, _pk_id="P3Y")  # longer than the proofs' 2 years
    with pytest.raises(PolicyError, match="cookie '_pk_id\\*' set under a decision"):
        load_policy(path, registry_fields())
