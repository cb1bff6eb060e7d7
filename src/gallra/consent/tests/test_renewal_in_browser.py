"""The banner asks again at the renewal moment, in a real browser whose clock is set.

The visitor's decision lives in their cookie with the time it was made (`t`); the banner
compares it with the browser's clock (Playwright's fake clock here). The moments are the
ones of test_renewal.py, worked out by hand: the decision holds until the last second before
00:00 Stockholm time on the renewal day and is asked again from that midnight, whatever
time zone the visitor's computer is set to.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

import pytest

from gallra.consent.tests.test_renewal import SIX_MONTHS
from gallra.policy.loading import current_policy

pytestmark = pytest.mark.django_db(transaction=True)

SECOND = timedelta(seconds=1)
# Decisions made just before and just after both clock changes of 2026 and 2027, the day
# that is the 28th in Stockholm and the 27th in UTC, asked again on the day of a clock change
# or the day after, and the example. The visitor's computer may be set to any time
# zone: the rule is Stockholm's anyway, so each case runs in one of these, in turn.
CHANGES = ("2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31")
ROWS = [
    row
    for row in SIX_MONTHS
    if row[0][:10] in CHANGES
    or row[1][:10] in ("2026-10-24", "2026-10-25", "2027-03-27", "2027-03-28", "2027-10-31")
    or row[0] in ("2026-03-28T23:30:00", "2026-08-31T12:00:00")
]
ZONES = ["Europe/Stockholm", "America/New_York", "Asia/Tokyo", "UTC"]
CASES = [(*row, ZONES[i % len(ZONES)]) for i, row in enumerate(ROWS)]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def demo(live_server) -> str:
    return f"{live_server.url}/consent/demo/"


def choice(decided: datetime) -> dict:
    """The cookie a browser keeps after accepting statistics only at `decided`."""
    return {
        "id": str(uuid.uuid4()),
        "r": current_policy().cookies.revision,
        "t": int(decided.timestamp() * 1000),
        "c": {"statistics": True, "social_sharing": False, "third_party_functions": False},
        "s": {"youtube": False},
    }


def asks(page, live_server, now: datetime) -> bool:
    """Open the page with the browser's clock at `now`: True when the banner asks, False
    when the stored choice holds (then the accepted statistics script runs)."""
    page.clock.set_fixed_time(now)
    page.goto(demo(live_server))
    # The banner adds its style sheet in the same step in which it decides whether to ask.
    page.locator('link[href$="/gallra/banner.css"]').wait_for(state="attached")
    asked = page.get_by_role("dialog").count() == 1
    if not asked:
        page.wait_for_function("window.gallraDemo.statistics === 1")
    assert page.evaluate("Date.now()") == int(now.timestamp() * 1000)  # the clock took
    return asked


def keep(context, live_server, cookie: dict) -> None:
    context.clear_cookies()
    context.add_cookies(
        [{"name": "gallra_consent", "value": quote(json.dumps(cookie)), "url": live_server.url}]
    )


@pytest.mark.parametrize(
    ("decided", "renews", "why", "zone"), CASES, ids=[f"{c[0]}->{c[1]}@{c[3]}" for c in CASES]
)
def test_asked_again_from_the_renewal_moment(browser, live_server, decided, renews, why, zone):
    """Decisions made just before and after both clock changes of 2026 and 2027 (and the
    rest of test_renewal.py's table): held a second after they were made and a second
    before the renewal moment, asked again at it."""
    visitor = browser.new_context(bypass_csp=True, timezone_id=zone)
    keep(visitor, live_server, choice(utc(decided)))
    page = visitor.new_page()
    page.set_default_timeout(10_000)
    assert not asks(page, live_server, utc(decided) + SECOND), why
    assert not asks(page, live_server, utc(renews) - SECOND), why
    assert asks(page, live_server, utc(renews)), why
    visitor.close()


def test_a_decision_of_31_august_is_asked_again_on_28_february(context, page, live_server):
    """The whole way: the visitor decides with the browser's clock at 31 August 2026, 14:00
    Stockholm time; the cookie says so, and the banner holds the choice through 27 February
    2027 and asks from 00:00 on 28 February (and so, on 1 March, the issue's example)."""
    decided = utc("2026-08-31T12:00:00")
    page.clock.set_fixed_time(decided)
    page.goto(demo(live_server))
    page.get_by_role("button", name="Välj själv").click()
    page.get_by_role("checkbox", name="Besöksstatistik").check()
    with page.expect_response(lambda r: r.url.endswith("/consent/decisions")):
        page.get_by_role("button", name="Spara mina val").click()
    cookie = next(c for c in context.cookies() if c["name"] == "gallra_consent")
    assert json.loads(unquote(cookie["value"]))["t"] == int(decided.timestamp() * 1000)
    assert not asks(page, live_server, utc("2027-02-27T22:59:59"))  # 23:59:59 CET, 27 Feb
    assert asks(page, live_server, utc("2027-02-27T23:00:00"))  # 00:00 CET, 28 Feb
    assert asks(page, live_server, utc("2027-03-01T11:00:00"))  # the issue: 1 March


@pytest.mark.parametrize(
    "cookie",
    [
        {"t": "1788177600000"},
        {"t": None},
        {"t": 4102444800000},  # a string, none, the future
        {"t": float("nan")},
        {"r": 0},
    ],
    ids=["string", "null", "future", "nan", "old-revision"],
)
def test_a_cookie_that_is_not_a_real_decision_is_asked_again(context, page, live_server, cookie):
    # NaN is not JSON: json.dumps writes it, and the banner's JSON.parse refuses the cookie.
    keep(context, live_server, choice(utc("2026-08-31T12:00:00")) | cookie)
    assert asks(page, live_server, utc("2026-09-01T10:00:00"))


def test_another_duration_in_the_policy(monkeypatch, tmp_path, browser, live_server):
    """P1Y2M3D from 31 December 2026: 14 months reach February 2028 (29 days, a leap year),
    plus 3 days: asked again from 00:00 CET on 3 March 2028 (2028-03-02T23:00Z)."""
    from gallra import config

    text = config.DEFAULT_POLICY.read_text()
    assert 'renew_after = "P6M"' in text
    policy = tmp_path / "policy.toml"
    policy.write_text(text.replace('renew_after = "P6M"', 'renew_after = "P1Y2M3D"'))
    monkeypatch.setenv("GALLRA_POLICY", str(policy))
    context = browser.new_context(bypass_csp=True, timezone_id="UTC")
    keep(context, live_server, choice(utc("2026-12-31T12:00:00")))
    page = context.new_page()
    assert not asks(page, live_server, utc("2028-03-02T22:59:59"))
    assert asks(page, live_server, utc("2028-03-02T23:00:00"))
    context.close()
