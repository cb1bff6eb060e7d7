"""ISO 8601 durations in the policy file: what parses, and calendar arithmetic on dates."""

import calendar
from datetime import date, timedelta

import pytest

from gallra.policy.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "years", "months", "days"),
    [
        ("P1Y", 1, 0, 0),
        ("P3M", 0, 3, 0),
        ("P7D", 0, 0, 7),
        ("P2W", 0, 0, 14),
        ("P6M", 0, 6, 0),
        ("P7Y", 7, 0, 0),
        ("P0D", 0, 0, 0),
        ("P1Y2M3D", 1, 2, 3),
        ("P1Y6M", 1, 6, 0),
        ("P1W3D", 0, 0, 10),
        ("P18M", 0, 18, 0),
        ("P400D", 0, 0, 400),
    ],
)
def test_valid_durations(text, years, months, days):
    duration = parse_duration(text)
    assert (duration.years, duration.months, duration.days) == (years, months, days)
    assert str(duration) == text  # shown as the policy wrote it


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "1Y",
        "p1y",
        "P1y",
        "PT1H",  # hours: retention is counted in whole days
        "P1DT12H",
        "P1.5Y",
        "P1,5Y",
        "P-1Y",
        "P+1Y",
        "P1D1Y",  # out of order
        "P1M1Y",
        "P1Y1Y",
        " P1Y",
        "P1Y ",
        "P 1Y",
        "1 year",
        "P1Y\n",
        "P١Y",  # Arabic-Indic digit: looks like a number, is not ASCII
        "２０２４",
    ],
)
def test_invalid_durations_are_rejected_with_a_hint(text):
    with pytest.raises(ValueError, match="ISO 8601") as raised:
        parse_duration(text)
    assert repr(text) in str(raised.value)
    assert "P1Y" in str(raised.value)  # an example of what would be right


@pytest.mark.parametrize(
    ("start", "text", "expected"),
    [
        (date(2025, 1, 31), "P3M", date(2025, 4, 30)),  # day clamped to the month's last day
        (date(2025, 1, 31), "P1M", date(2025, 2, 28)),
        (date(2024, 1, 31), "P1M", date(2024, 2, 29)),  # leap year
        (date(2024, 2, 29), "P1Y", date(2025, 2, 28)),
        (date(2024, 2, 29), "P4Y", date(2028, 2, 29)),
        (date(2024, 2, 29), "P12M", date(2025, 2, 28)),
        (date(2024, 12, 31), "P1M", date(2025, 1, 31)),  # across the year end
        (date(2024, 11, 30), "P3M", date(2025, 2, 28)),
        (date(2024, 12, 15), "P13M", date(2026, 1, 15)),
        (date(2025, 3, 31), "P1M", date(2025, 4, 30)),
        (date(2025, 5, 31), "P1Y", date(2026, 5, 31)),
        (date(2025, 6, 15), "P2W", date(2025, 6, 29)),
        (date(2025, 12, 25), "P7D", date(2026, 1, 1)),
        (date(2024, 2, 28), "P1D", date(2024, 2, 29)),
        (date(2025, 2, 28), "P1D", date(2025, 3, 1)),
        (date(2025, 1, 31), "P1M1D", date(2025, 3, 1)),  # months first, then days
        (date(2025, 6, 1), "P0D", date(2025, 6, 1)),
        # Bokföringslagen: through the seventh year after the end of the calendar year.
        (date(2024, 12, 31), "P7Y", date(2031, 12, 31)),
    ],
)
def test_calendar_arithmetic(start, text, expected):
    assert parse_duration(text).after(start) == expected


def test_weeks_are_seven_days():
    start = date(2025, 2, 20)
    assert parse_duration("P2W").after(start) == start + timedelta(days=14)
    assert parse_duration("P2W").after(start) == parse_duration("P14D").after(start)


def test_a_year_is_twelve_months_every_day_of_a_leap_year():
    day = date(2024, 1, 1)
    while day.year == 2024:
        assert parse_duration("P1Y").after(day) == parse_duration("P12M").after(day)
        day += timedelta(days=1)


def test_after_never_goes_backwards_and_keeps_the_day_when_it_can():
    day = date(2023, 1, 1)
    while day.year < 2025:
        later = parse_duration("P1M").after(day)
        assert later > day
        if later.day != day.day:  # only when the next month is too short
            assert later.day < day.day
            assert later.day == calendar.monthrange(later.year, later.month)[1]
        assert (later.year * 12 + later.month) - (day.year * 12 + day.month) == 1
        day += timedelta(days=1)
