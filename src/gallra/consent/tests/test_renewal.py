"""When a cookie decision is asked again: the policy's `renew_after` after the day it was made.

The rule (docs/consent.md): take the day the decision was made, Stockholm time; add the
duration in calendar terms (a month ending past the month's last day ends on that last day);
the visitor is asked again from 00:00, Stockholm time, on the day reached. Every expected
moment below is worked out by hand: Stockholm is UTC+1 (CET) in winter and UTC+2 (CEST)
from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October (29
March and 25 October 2026, 28 March and 31 October 2027).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gallra.consent.config import banner_config, renewal
from gallra.policy.durations import parse_duration
from gallra.policy.loading import current_policy

# (decided, UTC; asked again from, UTC; why)
SIX_MONTHS = [
    ("2026-08-31T12:00:00", "2027-02-27T23:00:00", "the issue: 31 Aug + 6 months = 28 Feb 2027"),
    ("2026-08-31T21:59:59", "2027-02-27T23:00:00", "23:59:59 CEST, still 31 August"),
    ("2026-08-31T22:00:00", "2027-02-28T23:00:00", "00:00 CEST 1 September: from 1 March"),
    ("2027-08-31T10:00:00", "2028-02-28T23:00:00", "into a leap February: 29 Feb 2028"),
    # made just before and just after the clock changes
    ("2026-03-29T00:59:59", "2026-09-28T22:00:00", "01:59:59 CET, the last second of winter"),
    ("2026-03-29T01:00:00", "2026-09-28T22:00:00", "03:00 CEST, the first of summer"),
    ("2026-03-28T22:30:00", "2026-09-27T22:00:00", "23:30 CET on 28 March"),
    ("2026-03-28T23:30:00", "2026-09-28T22:00:00", "00:30 CET on 29 March (UTC: the 28th)"),
    ("2026-10-25T00:30:00", "2027-04-24T22:00:00", "the first 02:30 (CEST) of 25 October"),
    ("2026-10-25T01:30:00", "2027-04-24T22:00:00", "the second 02:30 (CET): the same day"),
    ("2027-03-28T00:59:59", "2027-09-27T22:00:00", "01:59:59 CET, 28 March 2027"),
    ("2027-03-28T01:00:00", "2027-09-27T22:00:00", "03:00 CEST, 28 March 2027"),
    ("2027-10-31T00:59:59", "2028-04-29T22:00:00", "02:59:59 CEST, 31 October 2027"),
    ("2027-10-31T01:00:00", "2028-04-29T22:00:00", "02:00 CET, 31 October 2027"),
    # asked again on the day of a clock change, or the day after: midnight is before it
    ("2026-04-25T10:00:00", "2026-10-24T22:00:00", "25 Oct 2026, 00:00 still CEST"),
    ("2026-04-26T10:00:00", "2026-10-25T23:00:00", "26 Oct 2026, 00:00 CET"),
    ("2026-09-28T10:00:00", "2027-03-27T23:00:00", "28 Mar 2027, 00:00 still CET"),
    ("2026-09-29T10:00:00", "2027-03-28T22:00:00", "29 Mar 2027, 00:00 CEST"),
    ("2027-04-30T10:00:00", "2027-10-29T22:00:00", "30 Oct 2027, 00:00 CEST"),
    ("2027-05-01T10:00:00", "2027-10-31T23:00:00", "1 Nov 2027, 00:00 CET"),
]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("decided", "asked", "why"), SIX_MONTHS)
def test_six_months_after_the_day_of_the_decision(decided, asked, why):
    assert renewal(utc(decided), parse_duration("P6M")) == utc(asked), why


@pytest.mark.parametrize(
    ("duration", "decided", "asked"),
    [
        ("P1Y", "2028-02-29T12:00:00", "2029-02-27T23:00:00"),  # 28 Feb 2029, 00:00 CET
        ("P13M", "2026-01-31T12:00:00", "2027-02-27T23:00:00"),  # 28 Feb 2027
        ("P30D", "2026-03-01T12:00:00", "2026-03-30T22:00:00"),  # 31 Mar 2026, 00:00 CEST
        ("P1Y2M3D", "2026-12-31T12:00:00", "2028-03-02T23:00:00"),  # 29 Feb 2028 + 3 days
        ("P2W", "2026-10-20T12:00:00", "2026-11-02T23:00:00"),
    ],  # 3 Nov 2026, 00:00 CET
)
def test_other_durations(duration, decided, asked):
    assert renewal(utc(decided), parse_duration(duration)) == utc(asked)


def test_the_banner_gets_the_duration_not_a_number_of_days(db):
    config = banner_config(current_policy(), "sv", "")
    assert config["renew"] == {"years": 0, "months": 6, "days": 0}  # JufCorp: P6M
    assert config["time_zone"] == "Europe/Stockholm"
    assert "renew_days" not in config  # counted from today: the old mistake


def test_the_admin_shows_when_each_decision_is_asked_again(admin_client):
    from gallra.consent.models import ConsentDecision

    ConsentDecision.objects.create(
        consent_id="00000000-0000-4000-8000-000000000001",
        action="accept_all",
        categories={"statistics": True},
        services={},
        banner_revision=1,
        policy_revision=1,
        text_hash="ab" * 32,
        locale="sv",
        at=utc("2026-08-31T12:00:00"),
    )
    page = admin_client.get("/admin/consent/consentdecision/", HTTP_ACCEPT_LANGUAGE="sv")
    assert "28 februari 2027 00:00" in page.content.decode()
