"""ISO 8601 durations of whole years, months, weeks and days (`P1Y`, `P3M`, `P7D`).

Retention is counted in calendar terms: one year after 29 February is 28 February, and
three months after 31 January is 30 April (the day is clamped to the month's last day).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

from gallra.policy.sentences import said

# ASCII digits only: `\d` alone would also accept "P١Y" (Arabic-Indic digits).
_PATTERN = re.compile(r"P(?!$)(?:([0-9]+)Y)?(?:([0-9]+)M)?(?:([0-9]+)W)?(?:([0-9]+)D)?")


@dataclass(frozen=True)
class Duration:
    years: int = 0
    months: int = 0
    days: int = 0
    text: str = "P0D"

    def __str__(self) -> str:
        return self.text

    def after(self, start: date) -> date:
        """The date this long after `start`."""
        month_index = start.month - 1 + self.months + 12 * self.years
        year, month = start.year + month_index // 12, month_index % 12 + 1
        day = min(start.day, calendar.monthrange(year, month)[1])
        return date(year, month, day) + timedelta(days=self.days)


def parse_duration(text: str) -> Duration:
    """`P1Y`, `P3M`, `P2W`, `P7D` and combinations; raises ValueError with a hint otherwise."""
    match = _PATTERN.fullmatch(text)
    if not match:
        raise ValueError(
            said(
                "%(text)r is not an ISO 8601 duration of years, months, weeks or days "
                "(examples: P1Y, P3M, P7D)",
                text=text,
            )
        )
    years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
    return Duration(years=years, months=months, days=days + 7 * weeks, text=text)


# A cookie's time in hours and minutes (`PT30M`, `PT1H`, `PT1H30M`): its life is often shorter
# than a day (Matomo's `_pk_ses`: 30 minutes), which a retention duration never is.
_TIME_PATTERN = re.compile(r"PT(?!$)(?:([0-9]+)H)?(?:([0-9]+)M)?")
SESSION = "session"
# Longer than this is a typo, not a cookie (browsers keep none that long: Chrome caps at 400 days).
MAX_COOKIE_DAYS = 3653


@dataclass(frozen=True)
class CookieDuration:
    """How long a cookie lasts: until the browser closes (`session`), hours and minutes
    (`PT30M`), or calendar time like a retention duration (`P13M`)."""

    text: str
    session: bool = False
    hours: int = 0
    minutes: int = 0
    calendar: Duration | None = None

    def __str__(self) -> str:
        return self.text

    def bound(self) -> Duration:
        """Whole days (or the calendar duration) that the cookie never outlasts; a session
        cookie counts as one day."""
        if self.calendar is not None:
            return self.calendar
        days = 1 if self.session else max(1, -(-(60 * self.hours + self.minutes) // 1440))
        return Duration(days=days, text=f"P{days}D")


def parse_cookie_duration(text: str) -> CookieDuration:
    """`session`, `PT30M`, `PT1H`, or a duration `parse_duration` takes; more than no time
    and at most ten years. Raises ValueError with a hint otherwise."""
    if text == SESSION:
        return CookieDuration(text=text, session=True)
    time_match = _TIME_PATTERN.fullmatch(text)
    calendar = None
    if time_match:
        # More than 12 digits is huge anyway (int() refuses thousands of them).
        hours, minutes = (int(g.lstrip("0")[:13] or 0) if g else 0 for g in time_match.groups())
        days = (60 * hours + minutes) / 1440
        found = CookieDuration(text=text, hours=hours, minutes=minutes)
    else:
        try:
            calendar = parse_duration(text)
        except ValueError:
            raise ValueError(
                said(
                    "%(text)r is not an ISO 8601 duration a cookie can have: give "
                    '"session" (until the browser closes), hours or minutes (PT1H, PT30M), or '
                    "years, months, weeks or days (P1Y, P6M, P7D)",
                    text=text,
                )
            ) from None
        days = 365 * calendar.years + 30 * calendar.months + calendar.days
        found = CookieDuration(text=text, calendar=calendar)
    if days == 0:
        raise ValueError(
            said(
                "%(text)r is no time at all: a cookie that lasts until the browser closes is "
                '"session"',
                text=text,
            )
        )
    if days > MAX_COOKIE_DAYS:
        raise ValueError(
            said(
                "%(text)r is longer than ten years, which no browser keeps a cookie: give the "
                "Max-Age or Expires the cookie is set with",
                text=text,
            )
        )
    return found
