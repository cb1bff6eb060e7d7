"""Swedish identity numbers, read the same way everywhere in gallra.

python-stdnum does the arithmetic: the Luhn check digit (`stdnum.luhn`) and organisation
numbers (`stdnum.se.orgnr`). What it lacks and gallra needs is here, once: a
samordningsnummer (the day of birth + 60), the century of a ten-digit form counted from a
given day (so a scan or a test reads the same on any day), and the number's kind, which
the scanner reports. The policy check, `gallra import`, a request's identity and the
scanner all use this module, so what one accepts the others accept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from stdnum import luhn
from stdnum.exceptions import InvalidComponent, InvalidFormat, ValidationError
from stdnum.se import orgnr

PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"

# 10 or 12 digits; the ten-digit form's separator is "-", "+" (aged 100 or more), a space
# or nothing.
FORM = re.compile(r"(?P<c>\d{2})?(?P<y>\d{2})(?P<m>\d{2})(?P<d>\d{2})(?P<sep>[-+ ]?)(?P<n>\d{4})")
_ORG_FORM = re.compile(r"(\d{2})?(\d{6})[-+]?(\d{4})")


@dataclass(frozen=True)
class Personnummer:
    """A checked number: PERSONNUMMER or SAMORDNINGSNUMMER, and "YYYYMMDD-NNNN" (the day as
    written, + 60 for a samordningsnummer)."""

    kind: str
    long: str


def _century(yy: int, sep: str, today: date) -> int:
    """The century of a ten-digit number: the latest that is not in the future; `+` adds a
    hundred years (the person is 100 or older)."""
    year = today.year // 100 * 100 + yy
    if year > today.year:
        year -= 100
    if sep == "+":
        year -= 100
    return year // 100


def read(text: str, today: date | None = None) -> Personnummer:
    """The personnummer or samordningsnummer that is the whole of `text`.

    Raises stdnum's InvalidFormat (not 10 or 12 digits in a usual form), InvalidChecksum
    (the check digit is wrong) or InvalidComponent (no such date, or a century other than
    the 1800s, 1900s or 2000s); all are stdnum.exceptions.ValidationError.
    """
    match = FORM.fullmatch(text)
    if match is None:
        raise InvalidFormat()
    yy, mm, dd, tail = match["y"], match["m"], match["d"], match["n"]
    luhn.validate(yy + mm + dd + tail)
    day, found = int(dd), PERSONNUMMER
    if day > 60:
        day, found = day - 60, SAMORDNINGSNUMMER
    century = (
        int(match["c"]) if match["c"] else _century(int(yy), match["sep"], today or date.today())
    )
    if century not in (18, 19, 20):
        raise InvalidComponent()
    try:
        date(century * 100 + int(yy), int(mm), day)
    except ValueError:
        raise InvalidComponent() from None
    return Personnummer(found, f"{century}{yy}{mm}{dd}-{tail}")


def kind(text: str, today: date | None = None) -> str | None:
    """PERSONNUMMER, SAMORDNINGSNUMMER, or None when `text` is not a valid one."""
    try:
        return read(text, today).kind
    except ValidationError:
        return None


# Why a number is refused: (msgid, values). The policy check says it as a policy sentence,
# `gallra import` as an import problem; both say these words, translated from these msgids.
Why = tuple[str, dict[str, str]]
ORG_NUMBER_FORM = (
    "%(value)s is not a Swedish organisation number: write its 10 digits as NNNNNN-NNNN "
    "(digits 0–9 and one '-'; 16NNNNNN-NNNN, with the century, is read too)"
)
ORG_NUMBER_CHECK_DIGIT = (
    "%(value)s is not a Swedish organisation number: the check digit (the last digit) does "
    "not match the nine before it; look for a mistyped digit"
)
PERSONNUMMER_FORM = (
    "%(value)s is not a personnummer: write it as YYYYMMDD-NNNN or YYMMDD-NNNN "
    "(digits 0–9; '+' instead of '-' for a person aged 100 or more)"
)
PERSONNUMMER_CHECK_DIGIT = (
    "%(value)s is not a personnummer: the check digit (the last digit) does not match the "
    "nine before it; look for a mistyped digit"
)
PERSONNUMMER_DATE = "%(value)s is not a personnummer: there is no such date of birth"


def _shown(text: str) -> str:
    shown = repr(text)
    return shown if len(shown) <= 60 else f"{shown[:59]}…"


def org_number_problem(text: str) -> Why | None:
    """Why `text` is not a Swedish organisation number, or None: 10 or 12 digits
    ("556016-0680", "16556016-0680") with the check digit right; a sole trader's is the
    personnummer, which passes too.
    The policy check and `gallra import` both say this, so they refuse alike and in the same
    words."""
    match = _ORG_FORM.fullmatch(text)
    if match is None:
        return ORG_NUMBER_FORM, {"value": _shown(text)}
    if not orgnr.is_valid(match[2] + match[3]):
        return ORG_NUMBER_CHECK_DIGIT, {"value": _shown(text)}
    return None


def personnummer_problem(text: str, today: date | None = None) -> Why | None:
    """Why `text` is not a personnummer or samordningsnummer (as `read` reads one), or None."""
    try:
        read(text, today)
    except InvalidFormat:
        return PERSONNUMMER_FORM, {"value": _shown(text)}
    except InvalidComponent:
        return PERSONNUMMER_DATE, {"value": _shown(text)}
    except ValidationError:  # InvalidChecksum
        return PERSONNUMMER_CHECK_DIGIT, {"value": _shown(text)}
    return None
