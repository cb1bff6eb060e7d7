"""Field checks for imported records: each turns a JSON value into a stored value or says why not.

A check raises ValueError with a message meant for the person who wrote the file; the
importer puts the JSON path in front of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from gallra import idnumbers

Check = Callable[[object], object]
LONG_TEXT = 1_000_000  # characters of a free text (a document, a note): a record, not a dump
# Control characters: none in a one-line field (a name, a ref: they break logs, mails and
# CSV exports); in a free text only tab, line feed and carriage return. U+2028 and U+2029
# end a line too.
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NOT_IN_A_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def shown(value: object, limit: int = 60) -> str:
    """A value as a message shows it: repr, cut short (a 50 MB string is no message)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float | Decimal):
        return "a number"
    names = {str: "a string", list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def text(max_length: int, required: bool = True, *, one_line: bool = False) -> Check:
    """A free text of at most max_length characters (line breaks and tabs allowed)."""
    refused = _NOT_IN_A_LINE if one_line else _NOT_IN_A_TEXT

    def check(value: object) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise ValueError(f"must be a string, not {_type_name(value)}")
        if required and not value.strip():
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length:,} characters")
        bad = refused.search(value)
        if bad:
            what = "a line break" if bad.group() in "\n\r\u2028\u2029" else "a control character"
            raise ValueError(
                f"holds {what} ({bad.group()!r} at character {bad.start() + 1})"
                + (": this field is one line" if one_line else "")
            )
        return value

    return check


def line(max_length: int, required: bool = True) -> Check:
    """A one-line text: a name, a title, a username."""
    return text(max_length, required, one_line=True)


def ref(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string (the provider's own key for the record)")
    if len(value) > 100 or value != value.strip() or ":" in value:
        raise ValueError("must be at most 100 characters, without ':' or surrounding spaces")
    if _NOT_IN_A_LINE.search(value):
        raise ValueError("must not hold control characters or line breaks")
    return value


# Plain addresses that Django's validator accepts too; anything else goes to that validator.
_PLAIN_EMAIL = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,63}"
)


def email(value: object) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {_type_name(value)}")
    if len(value) <= 254 and _PLAIN_EMAIL.fullmatch(value):
        return value
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError(f"{shown(value)} is not an e-mail address") from None
    return value


_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,28}")


def phone(value: object) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _PHONE.fullmatch(value):
        raise ValueError(f"{shown(value)} is not a phone number (digits, spaces, '+', '-', '()')")
    return value


def day(value: object) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"{shown(value)} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{shown(value)} is not a date in the form YYYY-MM-DD") from None


def optional_day(value: object) -> date | None:
    return None if value is None else day(value)


def uid(value: object) -> int | None:
    """A numeric Linux user id, or null (the home directory audit then asks the host)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32 - 1:
        raise ValueError(f"{shown(value)} is not a user id (a whole number from 0 to 4294967294)")
    return value


def amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f'must be a number or a string such as "1250.00", not {_type_name(value)}')
    try:
        result = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise ValueError(f"{shown(value)} is not an amount") from None
    # The exponent first: arithmetic on 1e999999999 overflows before any comparison.
    if not result.is_finite() or not -3 <= result.adjusted() < 12:
        if result.is_finite() and result.is_zero():
            return Decimal("0.00")
        raise ValueError(f"{shown(value)} is not an amount below 10^12 with at most two decimals")
    if result != round(result, 2):
        raise ValueError(f"{shown(value)} is not an amount with at most two decimals")
    return result


def currency(value: object) -> str:
    if value is None:
        return "SEK"
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f'{shown(value)} is not a currency code such as "SEK"')
    return value


def choice(*allowed: str) -> Check:
    def check(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"{shown(value)} is not one of: {', '.join(allowed)}")
        return value  # type: ignore[return-value]

    return check


def org_number(value: object) -> str:
    """A Swedish organisation number or personnummer (10 or 12 digits, Luhn-checked)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not idnumbers.org_number_ok(value):
        raise ValueError(
            f"{shown(value)} is not a Swedish organisation number or personnummer "
            "(NNNNNN-NNNN, check digit included)"
        )
    return value


def references(value: object) -> str | None:
    """An optional reference to another record by its ref."""
    return None if value is None else ref(value)
