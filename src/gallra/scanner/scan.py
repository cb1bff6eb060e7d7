"""Finding personal data in free text: mail bodies, tickets, technical documents, log files.

Each kind is a regular expression that finds candidates, and a check that a candidate is
what it looks like: a personnummer has a real date and a right Luhn digit, an IBAN its
mod-97 checksum, an IP address parses, a Swedish phone number has a Swedish number's length.
A bare run of ten digits is a personnummer only when a word such as "personnummer" or "pnr"
stands just before it: without one, order and OCR numbers of ten digits would pass the
Luhn check one time in ten. Numbers inside URLs are not phone numbers. Names are the names
of the registry's own subjects, given by the caller, found whole.

Speed: every digit-based kind comes from one pass over the text that finds runs of digits,
spaces and dashes; each run is then checked by the kinds it could be.
"""

from __future__ import annotations

import bisect
import calendar
import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from gallra.registry.checks import luhn_ok

EMAIL = "email"
PERSONNUMMER = "personnummer"
SAMORDNINGSNUMMER = "samordningsnummer"
PHONE = "phone"  # a Swedish number
PHONE_INTL = "phone_intl"  # another country's, written with its +code
ADDRESS = "address"  # a Swedish postal address: street and number, postcode and town
IBAN = "iban"
BANK_ACCOUNT = "bank_account"  # a Swedish clearing number and account number
IP = "ip"
NAME = "name"
KINDS = (EMAIL, PERSONNUMMER, SAMORDNINGSNUMMER, PHONE, PHONE_INTL, ADDRESS, IBAN,
         BANK_ACCOUNT, IP, NAME)  # fmt: skip


@dataclass(frozen=True, order=True)
class Finding:
    start: int
    end: int
    kind: str
    text: str


_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}(?![\w-])"
)
_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"')\]]+|www\.[^\s<>\"')\]]+", re.IGNORECASE)
# A run that could be a number of ours: digits with single spaces, dashes or a plus; a phone
# number may start with + or (0).
_NUMBER = re.compile(r"(?<![\w+])\+?\d(?:[\d]|[ \-+](?=\d)|\s?\(0\)\s?)*\d(?!\w)")
_PNR_WORDS = re.compile(
    r"(?:person|samordnings)(?:nummer|nr)|pers\.?\s?nr|p-?nr|pnr|födelsenummer|born|född|"
    r"personal (?:identity )?number|ssn|id-?nummer",
    re.IGNORECASE,
)
_PNR = re.compile(r"(?P<c>\d{2})?(?P<y>\d{2})(?P<m>\d{2})(?P<d>\d{2})(?P<sep>[-+ ]?)(?P<n>\d{4})")
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
# Not a network in CIDR notation (10.0.0.0/8): that names no one's device.
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d|/\d)")
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?![\w:]|/\d)"
)
_POSTCODE = re.compile(
    r"(?<![\d-])(?:SE-?)?[1-9]\d{2} ?\d{2}[ \t]+[A-ZÅÄÖ][a-zåäöé]+(?:[ -][A-ZÅÄÖ][a-zåäöé]+)?"
)
# A street and number right before a postcode: "Storgatan 12, ", "Box 3\n", "Vägen 4 B "
_STREET_BEFORE = re.compile(
    r"(?<![\w-])[A-ZÅÄÖ][a-zåäöé]+(?:[ -][A-ZÅÄÖa-zåäöé]+){0,3} \d{1,4}[A-Za-z]?"
    r"(?: ?[A-Za-z]{1,3})?(?:,[ \t]*|[ \t]*\n[ \t]*|[ \t]+)\Z"
)
_NOT_DIGITS = str.maketrans("", "", " \t\n-+()")
_SPACE_BEFORE_LAST_FOUR = re.compile(r"(?<=\d) (?=\d{4}$)")
_SEPARATED = re.compile(r"\d{6}[-+]\d{4}$")
_BANK_ACCOUNT = re.compile(r"(\d{4,5})[- ,]\s?([\d -]{6,14}\d)")
_CAPITALISED = re.compile(r"[A-ZÅÄÖÉÜ][\w'-]*(?:[ \t]+[A-ZÅÄÖÉÜ][\w'-]*)+")
_WORD = re.compile(r"\S+")
_BANK_WORDS = re.compile(r"konto|clearing|account|bank", re.IGNORECASE)
# IBAN length per country (ISO 13616), for the countries a Swedish provider meets most.
IBAN_LENGTHS = {"SE": 24, "NO": 15, "DK": 18, "FI": 18, "DE": 22, "GB": 22, "FR": 27, "NL": 18,
                "ES": 24, "IT": 27, "PL": 28, "EE": 20, "LV": 21, "LT": 20, "IS": 26, "BE": 16,
                "AT": 20, "CH": 21, "IE": 22, "PT": 25, "LU": 20}  # fmt: skip


def _century(yy: int, sep: str, today: date) -> int:
    """The century of a short personnummer: the latest that is not in the future; `+` adds
    a hundred years (the person is 100 or older)."""
    year = today.year // 100 * 100 + yy
    if year > today.year:
        year -= 100
    if sep == "+":
        year -= 100
    return year // 100


def personnummer_kind(text: str, today: date | None = None) -> str | None:
    """PERSONNUMMER, SAMORDNINGSNUMMER or None for a candidate such as 19811218-9876."""
    match = _PNR.fullmatch(text)
    if match is None:
        return None
    y, m, d, n = (match[g] for g in ("y", "m", "d", "n"))
    if not luhn_ok(y + m + d + n):
        return None
    month, day = int(m), int(d)
    kind = PERSONNUMMER
    if day > 60:
        kind, day = SAMORDNINGSNUMMER, day - 60
    if not 1 <= month <= 12 or day < 1:
        return None
    century = (
        int(match["c"]) if match["c"] else _century(int(y), match["sep"], today or date.today())
    )
    if match["c"] and century not in (18, 19, 20):
        return None
    if day > calendar.monthrange(century * 100 + int(y), month)[1]:
        return None
    return kind


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if IBAN_LENGTHS.get(compact[:2], 0) not in (0, len(compact)) or not 15 <= len(compact) <= 34:
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def swedish_phone_ok(digits: str, international: bool) -> bool:
    """A Swedish number: 0 + area code + subscriber, 8 to 10 digits in all (with the 0)."""
    national = "0" + digits if international else digits
    if not national.startswith("0") or national.startswith("00"):
        return False
    return 8 <= len(national) <= 10


def _mod11_ok(digits: str) -> bool:
    """Modulus 11, weights 1, 2, ... 10 from the right (Bankgirot's account number rules)."""
    return sum(int(c) * (i % 10 + 1) for i, c in enumerate(reversed(digits))) % 11 == 0


def bank_account_ok(clearing: str, account: str) -> bool:
    """Bankgirot's rules for the common banks: type 1 accounts check clearing + account
    with mod 11; type 2 (Handelsbanken, Nordea personkonto, Swedbank 8xxx) the account
    alone with mod 11 or mod 10."""
    c = int(clearing[:4])
    if 6000 <= c <= 6999:  # Handelsbanken: 9 digits, mod 11
        return len(account) == 9 and _mod11_ok(account)
    if 8000 <= c <= 8999:  # Swedbank: five-digit clearing, up to 10 digits, mod 10
        return len(clearing) == 5 and luhn_ok(clearing[:5]) and 6 <= len(account) <= 10 \
            and luhn_ok(account)  # fmt: skip
    if c == 3300 or c == 3782:  # Nordea personkonto: the personnummer
        return len(account) == 10 and luhn_ok(account)
    if 1100 <= c <= 5999 or 9000 <= c <= 9999:  # type 1: 7 digits
        return len(account) == 7 and _mod11_ok(clearing[1:4] + account)
    return False


class Scanner:
    """Finds every kind in a text. `names`: the registry subjects' names to look for."""

    def __init__(self, names: Iterable[str] = (), today: date | None = None) -> None:
        self.today = today or date.today()
        wanted = sorted({" ".join(n.split()) for n in names if len(n.split()) >= 2}, key=len,
                        reverse=True)  # fmt: skip
        # Whole names: runs of capitalised words are looked up, two to five words at a time.
        self.names = {tuple(n.split()) for n in wanted}
        self.longest = max((len(n) for n in self.names), default=0)

    def scan(self, text: str) -> list[Finding]:
        urls = [(m.start(), m.end()) for m in _URL.finditer(text)]
        found = [*self._emails(text), *self._numbers(text, urls), *self._ibans(text),
                 *self._ips(text), *self._addresses(text), *self._names(text)]  # fmt: skip
        return _without_overlaps(found, urls)

    def _emails(self, text: str) -> Iterator[Finding]:
        if "@" not in text:
            return
        for m in _EMAIL.finditer(text):
            yield Finding(m.start(), m.end(), EMAIL, m.group())

    def _numbers(self, text: str, urls: list[tuple[int, int]]) -> Iterator[Finding]:
        for m in _NUMBER.finditer(text):
            if _inside(m.start(), urls):
                continue
            found = self._number(text, m.start(), m.group())
            if found is not None:
                yield found

    def _number(self, text: str, start: int, run: str) -> Finding | None:
        digits = run.translate(_NOT_DIGITS)
        if len(digits) < 8:  # dates, times, amounts: shorter than any kind here
            return None
        # A personnummer: 10 or 12 digits, the short form with its - or +, a bare one only
        # after a word that says so.
        if len(digits) in (10, 12) and "(" not in run and not run.startswith("+"):
            compact = _SPACE_BEFORE_LAST_FOUR.sub("-", run).replace(" ", "")
            if _PNR.fullmatch(compact):
                separated = _SEPARATED.search(compact) is not None
                said = _PNR_WORDS.search(text, max(0, start - 40), start) is not None
                if separated or said or len(digits) == 12:
                    kind = personnummer_kind(compact, self.today)
                    # Bare twelve digits: also an invoice or OCR number, unless said, or a
                    # living person's date of birth.
                    if kind is not None and (said or separated or _alive(digits, self.today)):
                        return Finding(start, start + len(run), kind, run)
        international = run.startswith("+")
        if international and not run.startswith("+46"):
            if 8 <= len(digits) <= 15 and not digits.startswith("0"):
                return Finding(start, start + len(run), PHONE_INTL, run)
            return None
        if international:
            national = digits[2:]
            if national.startswith("0"):  # +46 (0)8 ...
                national = national[1:]
            if swedish_phone_ok(national, international=True):
                return Finding(start, start + len(run), PHONE, run)
            return None
        if run.startswith("00"):
            if digits.startswith("0046") and swedish_phone_ok(digits[4:], international=True):
                return Finding(start, start + len(run), PHONE, run)
            return None
        bank = self._bank_account(text, start, run)
        if bank is not None:
            return bank
        dash = run.find("-")  # after the area code: 08-, 031-, 0980-
        written_as_phone = "-" in run or " " in run or len(digits) == 10
        if (run.startswith("0") and written_as_phone and (dash == -1 or 2 <= dash <= 4)
                and swedish_phone_ok(digits, international=False)):  # fmt: skip
            return Finding(start, start + len(run), PHONE, run)
        return None

    def _bank_account(self, text: str, start: int, run: str) -> Finding | None:
        m = _BANK_ACCOUNT.fullmatch(run)
        if m is None or not _is_bank(text, start):
            return None
        clearing, account = m[1], m[2].translate(_NOT_DIGITS)
        if bank_account_ok(clearing, account):
            return Finding(start, start + len(run), BANK_ACCOUNT, run)
        return None

    def _ibans(self, text: str) -> Iterator[Finding]:
        for m in _IBAN.finditer(text):
            if iban_ok(m.group()):
                yield Finding(m.start(), m.end(), IBAN, m.group())

    def _ips(self, text: str) -> Iterator[Finding]:
        if "." in text:
            for m in _IPV4.finditer(text):
                if _ip_ok(m.group()):
                    yield Finding(m.start(), m.end(), IP, m.group())
        if "::" in text or text.count(":") >= 5:
            for m in _IPV6.finditer(text):
                value = m.group()
                if value.count(":") >= 2 and len(value) >= 3 and _ip_ok(value):
                    yield Finding(m.start(), m.end(), IP, value)

    def _addresses(self, text: str) -> Iterator[Finding]:
        for m in _POSTCODE.finditer(text):  # the postcode and town first, then the street
            street = _STREET_BEFORE.search(text, max(0, m.start() - 60), m.start())
            if street is not None:
                yield Finding(street.start(), m.end(), ADDRESS, text[street.start() : m.end()])
            elif _address_word_before(text, m.start()):
                yield Finding(m.start(), m.end(), ADDRESS, m.group())

    def _names(self, text: str) -> Iterator[Finding]:
        if not self.names:
            return
        for m in _CAPITALISED.finditer(text):
            words = [(w.start(), w.end()) for w in _WORD.finditer(m.group())]
            i = 0
            while i < len(words) - 1:
                for n in range(min(self.longest, len(words) - i), 1, -1):
                    span = words[i : i + n]
                    name = tuple(m.group()[a:b] for a, b in span)
                    if name in self.names:
                        start, end = m.start() + span[0][0], m.start() + span[-1][1]
                        yield Finding(start, end, NAME, text[start:end])
                        i += n - 1
                        break
                i += 1


def _alive(digits: str, today: date) -> bool:
    """A twelve-digit personnummer's year: not in the future, not over 120 years ago."""
    return today.year - 120 <= int(digits[:4]) <= today.year


def _ip_ok(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _is_bank(text: str, start: int) -> bool:
    return _BANK_WORDS.search(text, max(0, start - 25), start) is not None


def _address_word_before(text: str, start: int) -> bool:
    return re.search(r"(?:adress|address|postadress|box \d+)[:\s]*$", text[max(0, start - 30) :
                     start], re.IGNORECASE) is not None  # fmt: skip


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    """Whether position falls in one of the spans (sorted by start, not overlapping)."""
    i = bisect.bisect_right(spans, (position, float("inf"))) - 1
    return i >= 0 and spans[i][0] <= position < spans[i][1]


def _without_overlaps(found: list[Finding], urls: list[tuple[int, int]]) -> list[Finding]:
    """The longer of two findings that overlap (an address holds a postcode, an e-mail a
    name); nothing inside a URL but the URL's own e-mail address."""
    kept: list[Finding] = []
    for f in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if f.kind != EMAIL and _inside(f.start, urls):
            continue
        if kept and f.start < kept[-1].end:
            if f.end - f.start > kept[-1].end - kept[-1].start:
                kept[-1] = f
            continue
        kept.append(f)
    return kept
