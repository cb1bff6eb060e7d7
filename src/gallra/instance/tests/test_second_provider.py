"""A second provider in an afternoon (issue 19): Nordhav Drift AB, not JufCorp, on a fresh
PostgreSQL database, following docs/install.md with nothing but gallra's commands.

The template from `gallra policy new` is filled in as Nordhav's CEO would (policy/tests/
nordhav.py: customer data 18 months, correspondence 6 months, backups 14 days, roles `vd`,
`drift`, `salj`), with a session cookie and Matomo's 30-minute `_pk_ses` statistics cookie
added. Then: `policy check`, `init --policy`, `import`, `plan` on three dates, `staff add`,
and `gallra serve`. What a visitor, a staff member and a regulator read (the notice in
Swedish and English, the privacy centre, the cookie banner, the record of processing, the
dashboard, the authenticator entry) must hold no word of JufCorp and no clause id, and every
duration it states must be one the policy states.

Every command runs in its own process (instance/tests/conftest.py), against a PostgreSQL
database made for this test and dropped after it, so it runs once, in the SQLite run of the
suite, and never touches the suite's own database.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from html import unescape

from gallra.dashboard import panels, timeline
from gallra.instance.tests.conftest import log_in, printed_password, serving
from gallra.policy.tests.nordhav import NAME, ROLES, nordhav_text

# Words of the first provider that must not follow the second one anywhere.
JUFCORP = re.compile(r"jufcorp|red\s*cloud|redcloud", re.IGNORECASE)
# JufCorp's clause ids, P1 ... P24, as its notice shows them ("P13", "P1, P2").
CLAUSE_ID = re.compile(r"\bP(?:[1-9]|1\d|2[0-4])\b")

# Nordhav's own cookies (issue 19): the web shop's session, and Matomo's statistics.
COOKIES = """

[[cookies.category.cookie]]
name = "nordhav_session"
purpose = { sv = "Håller dig inloggad.", en = "Keeps you logged in." }
duration = "session"
third_party = false

[[cookies.category]]
id = "statistics"
name = { sv = "Besöksstatistik", en = "Visitor statistics" }
purpose = { sv = "Räkna besök med Matomo.", en = "Count visits with Matomo." }

[[cookies.category.cookie]]
name = "_pk_id*"
purpose = { sv = "Känner igen återkommande besökare.", en = "Recognises returning visitors." }
duration = "P13M"
third_party = false

[[cookies.category.cookie]]
name = "_pk_ses*"
purpose = { sv = "Håller ihop ett besök.", en = "Holds one visit together." }
duration = "PT30M"
third_party = false
"""

# Customer C-1 ended on 2025-01-31: its data goes 18 months later, on 2026-07-31.
# The letter from a prospect was last touched on 2026-03-10: it goes 6 months later.
IMPORT = {
    "customers": [
        {
            "ref": "C-1",
            "name": "Fiskeläget Ekonomi AB",
            "kind": "company",
            "org_number": "559900-0022",
            "agreements": [{"ref": "AG-1", "start": "2020-02-01", "end": "2025-01-31"}],
            "people": [
                {
                    "ref": "P-1",
                    "first_name": "Signe",
                    "last_name": "Vik",
                    "email": "signe@fiskelaget.example",
                    "roles": ["contact", "user"],
                }
            ],
        },
        {
            "ref": "C-2",
            "name": "Bryggan Bygg AB",
            "kind": "company",
            "org_number": "559900-0030",
            "agreements": [{"ref": "AG-2", "start": "2024-05-01", "end": None}],
        },
    ],
    "prospects": [
        {
            "ref": "PR-1",
            "name": "Hamnkrogen",
            "email": "info@hamnkrogen.example",
            "created": "2026-03-01",
            "last_activity": "2026-03-10",
        },
    ],
    "correspondence": [
        {
            "ref": "M-1",
            "received": "2026-03-10",
            "last_activity": "2026-03-10",
            "prospect": "PR-1",
            "sender": "info@hamnkrogen.example",
            "subject": "Offert",
        },
    ],
}

# Durations the law states, not the policy, that a page may name: the month to answer a
# request and the two months it may be extended by (GDPR Art. 12(3)), the 72 hours to notify
# a breach (Art. 33(1)).
STATUTORY = {(1, "month"), (2, "month"), (72, "hour")}
# The dashboard's own views, which promise nothing: the coming 30 days of deletions (31 bars,
# today first, "each bar is a day"), holds ending soon, requests due within a week.
VIEWS = {
    (timeline.DAYS, "day"),
    (timeline.DAYS + 1, "day"),
    (1, "day"),
    (panels.SOON, "day"),
    (7, "day"),
}

UNITS = {
    "year": "year",
    "years": "year",
    "år": "year",
    "året": "year",
    "åren": "year",
    "month": "month",
    "months": "month",
    "månad": "month",
    "månader": "month",
    "månaden": "month",
    "månaderna": "month",
    "week": "week",
    "weeks": "week",
    "vecka": "week",
    "veckor": "week",
    "day": "day",
    "days": "day",
    "dag": "day",
    "dagar": "day",
    "dygn": "day",
    "hour": "hour",
    "hours": "hour",
    "timme": "hour",
    "timmar": "hour",
    "minute": "minute",
    "minutes": "minute",
    "minut": "minute",
    "minuter": "minute",
}
NUMBERS = {
    "one": 1,
    "a": 1,
    "an": 1,
    "en": 1,
    "ett": 1,
    "two": 2,
    "två": 2,
    "three": 3,
    "tre": 3,
    "six": 6,
    "sex": 6,
    "seven": 7,
    "sju": 7,
    "twelve": 12,
}
STATED = re.compile(
    r"\b(\d+|"
    + "|".join(NUMBERS)
    + r")\s+("
    + "|".join(sorted(UNITS, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
ISO = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$")


def policy_durations(text: str) -> set[tuple[int, str]]:
    """Every duration the policy file states as a structured value, as (number, unit)."""
    found = set()
    for value in re.findall(r'"(P[0-9YMWDTH]+)"', text):
        parts = ISO.match(value).groups()
        for n, unit in zip(parts, ("year", "month", "week", "day", "hour", "minute"), strict=True):
            if n:
                found.add((int(n), unit))
    return found


def stated_durations(text: str) -> set[tuple[int, str]]:
    out = set()
    for number, unit in STATED.findall(text):
        n = int(number) if number.isdigit() else NUMBERS[number.lower()]
        out.add((n, UNITS[unit.lower()]))
    return out


def visible(html: str) -> str:
    """The words a reader sees: no tags, scripts or styles, entities resolved."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
        return response.read().decode()


def test_a_second_provider_sees_nothing_of_the_first(gallra, fresh_postgresql, tmp_path, browser):
    gallra.env["GALLRA_DATABASE_URL"] = fresh_postgresql
    gallra.env["LANGUAGE"] = "en"
    policy_file = tmp_path / "nordhav.toml"

    # 1. The policy: the template, filled in, with the shop's own cookies; checked.
    gallra.run("policy", "new", str(policy_file))
    template = policy_file.read_text()
    assert "«" in template and not JUFCORP.search(template)
    text = nordhav_text() + COOKIES
    policy_file.write_text(text)
    gallra.run("policy", "check", str(policy_file))
    durations = policy_durations(text)
    assert {(18, "month"), (6, "month"), (14, "day"), (30, "minute")} <= durations

    # 2. The instance, on its own PostgreSQL database.
    init = gallra.run("init", "--policy", str(policy_file))
    password = printed_password(init.stdout)
    secret = re.search(r"two-factor secret: ([A-Z2-7]+)", init.stdout).group(1)
    assert "issuer=Nordhav" in init.stdout
    assert not JUFCORP.search(init.stdout)

    # 3. Their customers.
    records = tmp_path / "nordhav.json"
    records.write_text(json.dumps(IMPORT, ensure_ascii=False))
    gallra.run("import", str(records))

    # 4. `plan` on three dates: the day before the 18 months end, the day after, and after
    # the letter's 6 months too.
    def due(at: str) -> dict[tuple[str, str], str]:
        out = gallra.run("plan", "--at", at, "--format", "json").stdout
        return {(d["type"], d["ref"]): d["due"] for d in json.loads(out) if d["action"] == "delete"}

    assert due("2026-07-30") == {}
    assert due("2026-08-01") == {
        ("customer", "C-1"): "2026-07-31",
        ("person", "P-1"): "2026-07-31",
        ("agreement", "AG-1"): None,  # goes with its customer
    }
    after = due("2026-09-11")
    assert after[("correspondence", "M-1")] == "2026-09-10"
    assert after[("prospect", "PR-1")] == "2026-09-10"
    assert after[("customer", "C-1")] == "2026-07-31"
    assert not any(ref == "C-2" for _type, ref in after)

    # 5. Staff: the groups are Nordhav's roles, and the authenticator entry is Nordhav's.
    added = gallra.run("staff", "add", "kim", "--role", "drift", "--email", "kim@nordhav.example")
    uri = re.search(r"otpauth://\S+", added.stdout).group(0)
    assert "issuer=Nordhav" in uri and not JUFCORP.search(added.stdout)
    listed = gallra.run("staff", "list", "--format", "json").stdout
    assert not JUFCORP.search(listed)
    groups = {g for member in json.loads(listed) for g in member.get("roles", [])}
    assert groups <= set(ROLES) and "drift" in groups

    # 6. What each reader sees, served.
    with serving(gallra, tmp_path / "serve.log", GALLRA_ENFORCE_TIME="off") as (base, _log):
        pages = {
            "notice sv": visible(_get(base + "/privacy/?lang=sv")),
            "notice en": visible(_get(base + "/privacy/?lang=en")),
            "privacy centre": visible(_get(base + "/privacy/centre/")),
            "banner sv": _get(base + "/consent/config?lang=sv"),
            "banner en": _get(base + "/consent/config?lang=en"),
            "cookie demo page": visible(_get(base + "/consent/demo/")),
        }
        for lang in ("sv", "en"):
            ropa = gallra.run("report", "ropa", "--format", "html", "--lang", lang).stdout
            pages[f"record of processing {lang}"] = visible(ropa)

        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        log_in(page, base, "admin", password, secret)
        pages["dashboard"] = " ".join(page.locator("body").inner_text().split())
        context.close()

    assert NAME in pages["notice sv"] and NAME in pages["notice en"]
    for where, words in pages.items():
        assert not JUFCORP.search(words), (where, JUFCORP.search(words))
        assert not CLAUSE_ID.search(words), (where, CLAUSE_ID.search(words))
        strays = stated_durations(words) - durations - STATUTORY
        if where == "dashboard":
            strays -= VIEWS
        assert not strays, (where, strays)

    # The durations Nordhav chose are the ones stated, in both languages.
    for lang, months, days, minutes in (
        ("sv", "18 månader", "14 dagar", "30 minuter"),
        ("en", "18 months", "14 days", "30 minutes"),
    ):
        assert months in pages[f"notice {lang}"]
        assert days in pages[f"notice {lang}"]
        assert minutes in pages[f"banner {lang}"]
        assert (
            "one week" not in pages[f"notice {lang}"] and "en vecka" not in pages[f"notice {lang}"]
        )
    assert "Mån" not in pages["notice en"]
    assert "Weekdays 08–17" in pages["notice en"] and "Vardagar 08–17" in pages["notice sv"]
    assert "statistics" in pages["record of processing en"].lower()
