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

Check = Callable[[object], object]


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float | Decimal):
        return "a number"
    names = {str: "a string", list: "an array", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def text(max_length: int, required: bool = True) -> Check:
    def check(value: object) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str):
            raise ValueError(f"must be a string, not {_type_name(value)}")
        if required and not value.strip():
            raise ValueError("must not be empty")
        if max_length and len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        return value

    return check


def ref(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string (the provider's own key for the record)")
    if len(value) > 100 or value != value.strip() or ":" in value:
        raise ValueError("must be at most 100 characters, without ':' or surrounding spaces")
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
        raise ValueError(f"{value!r} is not an e-mail address") from None
    return value


_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,28}")


def phone(value: object) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _PHONE.fullmatch(value):
        raise ValueError(f"{value!r} is not a phone number (digits, spaces, '+', '-', '()')")
    return value


def day(value: object) -> date:
    if not isinstance(value, str) or len(value) != 10:
        raise ValueError(f"{value!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date in the form YYYY-MM-DD") from None


def optional_day(value: object) -> date | None:
    return None if value is None else day(value)


def uid(value: object) -> int | None:
    """A numeric Linux user id, or null (the home directory audit then asks the host)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32 - 1:
        raise ValueError(f"{value!r} is not a user id (a whole number from 0 to 4294967294)")
    return value


def amount(value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f'must be a number or a string such as "1250.00", not {_type_name(value)}')
    try:
        result = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not result.is_finite() or abs(result) >= 10**12 or result != round(result, 2):
        raise ValueError(f"{value!r} is not an amount with at most two decimals")
    return result


def currency(value: object) -> str:
    if value is None:
        return "SEK"
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f'{value!r} is not a currency code such as "SEK"')
    return value


def choice(*allowed: str) -> Check:
    def check(value: object) -> str:
        if value not in allowed:
            raise ValueError(f"{value!r} is not one of: {', '.join(allowed)}")
        return value  # type: ignore[return-value]

    return check


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


_ORG_NUMBER = re.compile(r"(\d{2})?(\d{6})[-+]?(\d{4})")


def org_number(value: object) -> str:
    """A Swedish organisation number or personnummer (10 or 12 digits, Luhn-checked)."""
    if value is None or value == "":
        return ""
    match = _ORG_NUMBER.fullmatch(value) if isinstance(value, str) else None
    if not match or not luhn_ok(match.group(2) + match.group(3)):
        raise ValueError(
            f"{value!r} is not a Swedish organisation number or personnummer "
            "(NNNNNN-NNNN, check digit included)"
        )
    return value


def references(value: object) -> str | None:
    """An optional reference to another record by its ref."""
    return None if value is None else ref(value)
