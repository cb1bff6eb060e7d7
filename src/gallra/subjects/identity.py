"""Who a request is about: validated once, then matched in every store in the forms it may
be stored in (an e-mail in any letter case, a personnummer with or without century)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from stdnum.exceptions import InvalidChecksum, InvalidComponent
from stdnum.exceptions import ValidationError as NotANumber

from gallra import idnumbers


class BadIdentity(ValueError):
    """A subject identifier that cannot be right; the message names the field."""


def normalise_personnummer(text: str, today: date | None = None) -> str:
    """ "YYYYMMDD-NNNN" from any of the usual forms, or BadIdentity.

    A samordningsnummer (day + 60) is accepted. The `+` of the ten-digit form marks a
    person aged 100 or more.
    """
    try:
        return idnumbers.read(text.strip(), today).long
    except InvalidChecksum:
        raise BadIdentity(f"personnummer {text!r}: the check digit is wrong") from None
    except InvalidComponent:
        raise BadIdentity(f"personnummer {text!r}: not a valid date") from None
    except NotANumber:
        raise BadIdentity(f"personnummer {text!r}: expected YYYYMMDD-NNNN or YYMMDD-NNNN") from None


def _email(text: str) -> str:
    text = text.strip()
    try:
        validate_email(text)
    except ValidationError:
        raise BadIdentity(f"e-mail {text!r} is not a valid e-mail address") from None
    return text


@dataclass(frozen=True)
class Identity:
    email: str
    name: str = ""
    username: str = ""
    personnummer: str = ""

    @classmethod
    def of(cls, email: str, name: str = "", username: str = "", personnummer: str = ""):
        """A validated identity, or BadIdentity naming the field that is wrong."""
        return cls(
            email=_email(email),
            name=" ".join(name.split()),
            username=username.strip(),
            personnummer=normalise_personnummer(personnummer) if personnummer else "",
        )

    def values(self, attribute: str) -> list[str]:
        """The stored forms to look for; empty when the request did not give the attribute."""
        if attribute == "email":
            return list(dict.fromkeys([self.email.lower(), self.email]))
        if attribute == "personnummer" and self.personnummer:
            long = self.personnummer
            short = long[2:8] + ("+" if int(long[:4]) <= date.today().year - 100 else "-")
            short += long[9:]
            return list(dict.fromkeys([long, long.replace("-", ""), short, short[:6] + long[9:]]))
        value = getattr(self, attribute)
        return [value] if value else []

    def masked_email(self) -> str:
        """Enough to recognise the address, not to use it: "a***@example.se"."""
        local, _, domain = self.email.partition("@")
        return f"{local[:1]}***@{domain}"
