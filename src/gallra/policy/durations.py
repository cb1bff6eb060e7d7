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
