"""Periods of EU acts, counted as Regulation (EEC, Euratom) No 1182/71 counts them, on
Sweden's calendar of public holidays (lag (1989:253) om allmänna helgdagar).

The GDPR's "one month" (Art. 12(3)) is such a period. Art. 3 of 1182/71:

* (1), second subparagraph: a period that runs from an event does not count the day of the
  event (a request received on 31 January: the period starts on 1 February);
* (2)(c): a period in months ends at the end of the day in the last month with the same date
  as the day it runs from, or of that month's last day when the date does not exist there
  (31 January + one month: 28 or 29 February);
* (3): Saturdays, Sundays and public holidays count;
* (4): a period, other than one in hours, whose last day is a public holiday, a Saturday or a
  Sunday ends at the end of the next working day;
* (5): a period of two days or more has at least two working days (always true of a month).

Art. 2: the public holidays are those of the Member State where the action is taken, here
Sweden's under 1989:253. The eves (midsommarafton, julafton, nyårsafton) are not public
holidays there, though lag (1930:173) om beräkning av lagstadgad tid treats them as such for
periods of Swedish law; 1989:253 gives the earlier end, so a deadline kept by it is always
kept (docs/subjects.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from gallra.policy.durations import Duration


def easter_sunday(year: int) -> date:
    """Easter Sunday of the Gregorian calendar (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _saturday_between(year: int, month: int, first: int) -> date:
    """The Saturday among the seven days from `first` (midsommardagen, alla helgons dag)."""
    start = date(year, month, first)
    return start + timedelta(days=(5 - start.weekday()) % 7)


@cache
def public_holidays(year: int) -> frozenset[date]:
    """Sweden's public holidays of `year` other than the Sundays (1989:253, 1 §)."""
    easter = easter_sunday(year)
    return frozenset(
        {
            date(year, 1, 1),  # nyårsdagen
            date(year, 1, 6),  # trettondedag jul
            easter - timedelta(days=2),  # långfredagen
            easter,  # påskdagen
            easter + timedelta(days=1),  # annandag påsk
            date(year, 5, 1),  # första maj
            easter + timedelta(days=39),  # Kristi himmelsfärdsdag
            easter + timedelta(days=49),  # pingstdagen
            date(year, 6, 6),  # Sveriges nationaldag
            _saturday_between(year, 6, 20),  # midsommardagen: the Saturday 20-26 June
            _saturday_between(year, 10, 31),  # alla helgons dag: the Saturday 31 Oct - 6 Nov
            date(year, 12, 25),  # juldagen
            date(year, 12, 26),  # annandag jul
        }
    )


def is_working_day(day: date) -> bool:
    """Not a Saturday, a Sunday or a public holiday (1182/71 Art. 2(2))."""
    return day.weekday() < 5 and day not in public_holidays(day.year)


def working_day_from(day: date) -> date:
    """`day` itself when it is a working day, else the next one (1182/71 Art. 3(4))."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def months_from(event: date, months: int) -> date:
    """The last day of a period of `months` months that runs from an event on `event`.

    The period ends at the end of the returned day (1182/71 Art. 3(1), 3(2)(c), 3(4)): one
    month from 3 March 2026 ends on Tuesday 7 April 2026, since 3 April is Good Friday and
    the next working day is the day after Easter Monday.
    """
    if months < 1:
        raise ValueError("a period in months has at least one month")
    last = Duration(months=months, text=f"P{months}M").after(event)  # same date, or month's end
    return working_day_from(last)
