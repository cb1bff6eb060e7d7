"""Field checks for imported records: each turns a JSON value into a stored value or says why not.

A check raises ValueError with a message meant for the person who wrote the file (a
policy Sentence: English as a str, `translated()` in the reader's language); the importer puts
the JSON path, line and record in front of it. A message that names what is allowed names
exactly what the check lets through, and the limits are those of the database columns
(registry/models.py), so that what passes here is stored without a word from the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from gallra import idnumbers
from gallra.policy.sentences import Sentence, joined, said

Check = Callable[[object], object]
LONG_TEXT = 1_000_000  # characters of a free text (a document, a note): a record, not a dump
# Control characters: none in a one-line field (a name, a ref: they break logs, mails and
# CSV exports); in a free text only tab, line feed and carriage return. U+2028 and U+2029
# end a line too.
# A lone surrogate (not Unicode, and no database stores one) is refused as one too; the JSON
# reader names it first (jsonstream.py), so the check's own word on it is never shown.
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NOT_IN_A_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def shown(value: object, limit: int = 60) -> str:
    """A value as a message shows it: repr, cut short (a 50 MB string is no message)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _type_name(value: object) -> Sentence | str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float | Decimal):
        return said("a number")
    if isinstance(value, str):
        return said("a string")
    if isinstance(value, list):
        return said("an array")
    if isinstance(value, dict):
        return said("an object")
    if value is None:
        return "null"
    return said("a value JSON does not allow")  # a Refused (jsonstream): already named there


def not_a(what: str, value: object) -> ValueError:
    """`must be a string, not a number`: `what` is one of the msgids below."""
    return ValueError(said(what, type=_type_name(value)))


MUST_BE_STRING = "must be a string, not %(type)s"
MUST_BE_OBJECT = "must be an object, not %(type)s"
MUST_BE_ARRAY = "must be an array, not %(type)s"


def text(max_length: int, required: bool = True, *, one_line: bool = False) -> Check:
    """A free text of at most max_length characters (line breaks and tabs allowed)."""
    refused = _NOT_IN_A_LINE if one_line else _NOT_IN_A_TEXT

    def check(value: object) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise not_a(MUST_BE_STRING, value)
        if required and not value.strip():
            raise ValueError(said("must not be empty"))
        if len(value) > max_length:
            raise too_long(value, max_length)
        bad = refused.search(value)
        if bad:
            values = {"char": repr(bad.group()), "at": bad.start() + 1}
            if bad.group() in "\n\r\u2028\u2029":
                raise ValueError(
                    said(
                        "holds a line break (%(char)s at character %(at)s): this field is one line",
                        **values,
                    )
                )
            if one_line:
                raise ValueError(
                    said(
                        "holds a control character (%(char)s at character %(at)s): "
                        "this field is one line",
                        **values,
                    )
                )
            raise ValueError(
                said("holds a control character (%(char)s at character %(at)s)", **values)
            )
        return value

    return check


def too_long(value: str, max_length: int) -> ValueError:
    return ValueError(
        said(
            "is %(n)s characters long; at most %(max)s fit",
            n=f"{len(value):,}",
            max=f"{max_length:,}",
        )
    )


def line(max_length: int, required: bool = True) -> Check:
    """A one-line text: a name, a title, a username."""
    return text(max_length, required, one_line=True)


REF_LENGTH = 100  # Record.ref
REF_RULE = (
    "a ref is 1 to 100 characters: letters, digits, spaces and punctuation, except ':' and "
    "control characters, and no space first or last"
)


def _not_a_ref(why: str, **values: object) -> ValueError:
    return ValueError(joined("; ", [said(why, **values), said(REF_RULE)]))


def ref(value: object) -> str:
    """The provider's own key for a record (Record.ref): what a reference names it by."""
    if not isinstance(value, str):
        raise _not_a_ref("must be a string, not %(type)s", type=_type_name(value))
    if not value:
        raise _not_a_ref("is empty")
    if len(value) > REF_LENGTH:
        raise _not_a_ref(
            "%(value)s is %(n)s characters long", value=shown(value), n=f"{len(value):,}"
        )
    bad = _NOT_IN_A_LINE.search(value)
    if bad:
        raise _not_a_ref(
            "%(value)s holds a control character or line break (%(char)s at character %(at)s)",
            value=shown(value),
            char=repr(bad.group()),
            at=bad.start() + 1,
        )
    if ":" in value:
        raise _not_a_ref(
            "%(value)s holds ':' (at character %(at)s)", value=shown(value), at=value.index(":") + 1
        )
    if value != value.strip():
        raise _not_a_ref("%(value)s starts or ends with a space", value=shown(value))
    return value


# Plain addresses that Django's validator accepts too; anything else goes to that validator.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}"
)


EMAIL_LENGTH = 254  # Person.email, Prospect.email, Correspondence.sender (EmailField)


def email(value: object) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise not_a(MUST_BE_STRING, value)
    if len(value) <= EMAIL_LENGTH and _PLAIN_EMAIL.fullmatch(value):
        return value
    if len(value) > EMAIL_LENGTH:  # Django's validator takes up to 320; the column 254
        raise too_long(value, EMAIL_LENGTH)
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError(
            said("%(value)s is not an e-mail address (such as name@example.se)", value=shown(value))
        ) from None
    return value


_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,28}")  # at most 30: Person.mobile


def phone(value: object) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _PHONE.fullmatch(value):
        raise ValueError(
            said(
                "%(value)s is not a phone number: use 5 to 30 characters: digits 0–9, spaces, "
                "'-', '(' and ')', starting with a digit or with '+' and a digit",
                value=shown(value),
            )
        )
    return value


_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def day(value: object) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError(said("%(value)s is not a date in the form YYYY-MM-DD", value=shown(value)))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(
            said(
                "%(value)s is not a date in the form YYYY-MM-DD: there is no such day",
                value=shown(value),
            )
        ) from None


def optional_day(value: object) -> date | None:
    return None if value is None else day(value)


# Account.uid is a PositiveIntegerField: PostgreSQL's integer, whose largest value is this.
# (A Linux uid may go to 4294967294; one above this needs the column made bigint first.)
UID_MAX = 2_147_483_647


def uid(value: object) -> int | None:
    """A numeric Linux user id, or null (the home directory audit then asks the host)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= UID_MAX:
        raise ValueError(
            said(
                "%(value)s is not a user id: a whole number from 0 to %(max)s",
                value=shown(value),
                max=UID_MAX,
            )
        )
    return value


_AMOUNT_RULE = (
    "%(value)s is not an amount: write digits 0–9 with at most two decimals after a point, "
    "such as 1250.00 or -99.5, below 1,000,000,000,000"
)


def amount(value: object) -> Decimal:
    """Invoice.amount: 14 digits, two of them decimals."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(
            said(
                'must be a number or a string such as "1250.00", not %(type)s',
                type=_type_name(value),
            )
        )
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(said(_AMOUNT_RULE, value=shown(value))) from None
    # The exponent first: arithmetic on 1e999999999 overflows before any comparison.
    if not result.is_finite() or not -3 <= result.adjusted() < 12:
        if result.is_finite() and result.is_zero():
            return Decimal("0.00")
        raise ValueError(said(_AMOUNT_RULE, value=shown(value)))
    if result != round(result, 2):
        raise ValueError(said(_AMOUNT_RULE, value=shown(value)))
    return result


def currency(value: object) -> str:
    if value is None:
        return "SEK"
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(
            said(
                "%(value)s is not a currency code: use three capital letters A–Z, "
                "such as SEK or EUR",
                value=shown(value),
            )
        )
    return value


def choice(*allowed: str) -> Check:
    def check(value: object) -> str:
        if value not in allowed:
            raise ValueError(
                said(
                    "%(value)s is not one of: %(allowed)s",
                    value=shown(value),
                    allowed=", ".join(allowed),
                )
            )
        return value  # type: ignore[return-value]

    return check


def roles(*allowed: str) -> Check:
    """A list of role names, each at most once: the person's flags."""

    def check(value: object) -> list[str]:
        if value is None:
            return []
        if (
            not isinstance(value, list)
            or any(not isinstance(r, str) or r not in allowed for r in value)
            or len(set(value)) != len(value)
        ):
            raise ValueError(said("must be a list of: %(allowed)s", allowed=", ".join(allowed)))
        return value

    return check


def _id_number(why: idnumbers.Why | None) -> None:
    if why is not None:
        raise ValueError(said(why[0], **why[1]))


def org_number(value: object) -> str:
    """A Swedish organisation number (a sole trader's is the personnummer): 10 or 12 digits,
    check digit right, read and worded by idnumbers as `policy check` reads and words it."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise not_a(MUST_BE_STRING, value)
    _id_number(idnumbers.org_number_problem(value))
    return value


def personnummer(value: object) -> str:
    """A private customer's personnummer or samordningsnummer, as idnumbers reads one (a day
    that exists, the check digit right)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise not_a(MUST_BE_STRING, value)
    _id_number(idnumbers.personnummer_problem(value))
    return value


def references(value: object) -> str | None:
    """An optional reference to another record by its ref."""
    return None if value is None else ref(value)
