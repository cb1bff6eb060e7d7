"""Finding personal data in free text: mail bodies, tickets, technical documents, log files.

Each kind is a regular expression that finds candidates, and a check that a candidate is
what it looks like: a personnummer has a real date and a right Luhn digit, an IBAN its
mod-97 checksum, an IP address parses, a Swedish phone number has a Swedish number's length.
A bare run of ten digits is a personnummer only when a word such as "personnummer" or "pnr"
stands just before it: without one, order and OCR numbers of ten digits would pass the
Luhn check one time in ten. Numbers inside URLs are not phone numbers. Names are the names
of the registry's own subjects, given by the caller, found whole.

Most of a hosting provider's files are logs, configuration and code, where digits fit a
pattern by chance: a number must have the shape people write (a Swedish phone number its
area code and subscriber groups), and digits that are part of a longer token are not read
on their own: after a digit and a point or colon (a time's milliseconds, a decimal, a
version), glued to a file name, path or id, or the groups of a UUID. An IP address must be
able to name a device (not loopback, 0.0.0.0, multicast, a netmask) and not be a version
(Version=4.0.0.0, Chrome/120.0.0.0). The technical corpus (technical.py) holds these apart.

Speed: every digit-based kind comes from one pass over the text that finds runs of digits,
spaces and dashes; each run is then checked by the kinds it could be.
"""

from __future__ import annotations

import bisect
import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from stdnum import luhn

from gallra import idnumbers

EMAIL = "email"
PERSONNUMMER = idnumbers.PERSONNUMMER
SAMORDNINGSNUMMER = idnumbers.SAMORDNINGSNUMMER
PHONE = "phone"  # a Swedish number
PHONE_INTL = "phone_intl"  # another country's, written with its +code
ADDRESS = "address"  # a Swedish postal address: street and number, postcode and town
IBAN = "iban"
BANK_ACCOUNT = "bank_account"  # a Swedish clearing number and account number
IP = "ip"
NAME = "name"
KINDS = (
    EMAIL,
    PERSONNUMMER,
    SAMORDNINGSNUMMER,
    PHONE,
    PHONE_INTL,
    ADDRESS,
    IBAN,
    BANK_ACCOUNT,
    IP,
    NAME,
)


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
# What ends a file's name, not a domain: logo@2x.png is an image, not an address.
_FILE_ENDING = re.compile(
    r"png|jpe?g|gif|svg|webp|ico|bmp|tiff?|css|m?js|ts|map|json|html?|php|py|rb|java|class|jar|"
    r"txt|log|xml|ya?ml|toml|ini|conf|cfg|bak|tmp|t?gz|bz2|xz|lock|pid|sock|db|sqlite|woff2?|"
    r"ttf|eot|pdf",
    re.IGNORECASE,
)
# A mail's own id looks like an address (<20170516.25746@web1.example>) but names no one.
_MESSAGE_ID_BEFORE = re.compile(
    r"(?:message-?id|in-reply-to|references)\s*[=:]\s*(?:<[^<>\s]*>[\s,]*)*<\Z", re.IGNORECASE
)
# A run that could be a number of ours: digits with single spaces, dashes or a plus; a phone
# number may start with +, an area code in brackets ("(08) 123 45 67"), or hold (0). Never
# right after a digit and a point or colon: that is a time's seconds, a decimal or a version
# ("00:00:03.091 25746" is milliseconds and a process id, not the number 091-257 46).
_NUMBER = re.compile(
    r"(?<![\w+])(?<!\d[.:])(?:\(0\d{1,3}\) ?(?=\d)|\+)?\d(?:\d|[ \-+](?=\d)|\s?\(0\)\s?)*"
    r"\d(?!\w)"
)
# Characters that glue a run of digits to the token around it: a file name, a path, an id.
_GLUE_BEFORE = frozenset("._/\\~@#")
_GLUE_AFTER = frozenset("._-/\\:@")
_PHONE_GROUPS = re.compile(r"[ -]")
# Words that say a number is something else: a snapshot of 201705161234 is a time stamp.
_OTHER_NUMBER_WORDS = re.compile(
    r"(?<![a-zåäö])(?:snapshot|backup|serial|job|build|session|commit|txn|transaction|seq|"
    r"sequence|batch|revision|rev|id|timestamp|epoch|stamp|version|release|generation|"
    r"checkpoint|offset|tag)s?\W{0,3}\Z",
    re.IGNORECASE,
)
_PNR_WORDS = re.compile(
    r"(?<![a-zåäö])(?:(?:person|samordnings)(?:nummer|nr)|pers\.?\s?nr|p-?nr|pnr|"
    r"födelsenummer|born|född|personal (?:identity )?number|ssn|id-?nummer)",
    re.IGNORECASE,
)
_PNR = idnumbers.FORM
_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
)
# Not a network in CIDR notation (10.0.0.0/8): that names no one's device.
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?!\w|\.\d|/\d)")
# An address may end a sentence or a field with a colon ("from 2001:db8::1: 11: Bye").
# An IPv4 address at its end is read whole (::ffff:81.234.20.40, not ::ffff:81).
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{1,4})?"
    r"(?!\w|\.\d|:[0-9A-Fa-f:]|/\d)"
)
# Four numbers after one of these words are a version: Version=4.0.0.0, "build": "2.18.4.4".
_VERSION_BEFORE = re.compile(
    r"(?:version|\bver|\bbuild|release|firmware|\brev|section|avsnitt|chapter|kapitel|§)\w*"
    r"[\"']?\s*[=:]?\s*[\"']?(?:v?[\d.]+-)?\Z",
    re.IGNORECASE,
)
# A product's version in a User-Agent ("Chrome/120.0.0.0 Safari/537.36"): after Name/ and
# before a space, not part of a path (".../81.234.20.40.log" or ".../81.234.20.40/syslog").
_PRODUCT_BEFORE = re.compile(r"(?<![\w/.-])[A-Za-z][\w.-]*/\Z")
# A town's name, not a unit after a number ("16384 Mb", "2400 Mhz", "500 Ms").
_POSTCODE = re.compile(
    r"(?<![\d-])(?:SE-?)?[1-9]\d{2} ?\d{2}[ \t]+"
    r"(?!(?i:(?:[kmgtp]i?)?b(?:its?|ps|ytes?)?|[kmgt]?hz|[mnµ]?s|secs?|mins?|rpm)\b)"
    r"[A-ZÅÄÖ][a-zåäöé]+(?:[ -][A-ZÅÄÖ][a-zåäöé]+)?"
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
# IBAN length per country: SWIFT's IBAN registry (ISO 13616). A code not in it is no IBAN
# (an upper-case hex id such as FE819399E6D6084C is not one).
IBAN_LENGTHS = {
    country: int(length)
    for country, length in re.findall(
        r"([A-Z]{2}):(\d+)",
        "AD:24 AE:23 AL:28 AT:20 AZ:28 BA:20 BE:16 BG:22 BH:22 BI:27 BR:29 BY:28 CH:21 CR:22 "
        "CY:28 CZ:24 DE:22 DJ:27 DK:18 DO:28 EE:20 EG:29 ES:24 FI:18 FK:18 FO:18 FR:27 GB:22 "
        "GE:22 GI:23 GL:18 GR:27 GT:28 HN:28 HR:21 HU:28 IE:22 IL:23 IQ:23 IS:26 IT:27 JO:30 "
        "KW:30 KZ:20 LB:28 LC:32 LI:21 LT:20 LU:20 LV:21 LY:25 MC:27 MD:24 ME:22 MK:19 MN:20 "
        "MR:27 MT:31 MU:30 NI:28 NL:18 NO:15 OM:23 PK:24 PL:28 PS:29 PT:25 QA:29 RO:24 RS:22 "
        "RU:33 SA:24 SC:31 SD:18 SE:24 SI:19 SK:24 SM:27 SO:23 ST:25 SV:28 TL:23 TN:24 TR:26 "
        "UA:29 VA:22 VG:24 XK:20 YE:30",
    )
}
# Countries whose account part (after the check digits) is digits only.
IBAN_NUMERIC = frozenset(
    re.findall(
        r"[A-Z]{2}",
        "AE AT BA BE CZ DE DK EE ES FI FO GL HR HU IL IS LT ME NO PL PT RS SE SI SK TN XK",
    )
)


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    if IBAN_LENGTHS.get(compact[:2]) != len(compact):
        return False
    if compact[:2] in IBAN_NUMERIC and not compact[4:].isdigit():
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def swedish_phone_ok(digits: str, international: bool) -> bool:
    """A Swedish number: 0 + area code + subscriber, 8 to 10 digits in all (with the 0)."""
    national = "0" + digits if international else digits
    if not national.startswith("0") or national.startswith("00"):
        return False
    return 8 <= len(national) <= 10


def swedish_phone_shape(run: str) -> bool:
    """A Swedish number as people write it at home: an area code (0 and one to three digits,
    08, 031, 0980, 070) then the subscriber's five to eight digits, whole or in groups of two
    to four ("070-123 45 67", "031-12 34 56", "(08) 123 45 67", "0980-123 45"); or a mobile
    number's ten digits without a break ("0701234567")."""
    if run.startswith("("):
        area, _, rest = run[1:].partition(")")
        groups = _PHONE_GROUPS.split(rest.strip())
    else:
        area, *groups = _PHONE_GROUPS.split(run)
        if not groups:
            return len(run) == 10 and run[0] == "0" and run[1] != "0"
    subscriber = "".join(groups)
    if not (2 <= len(area) <= 4 and area[0] == "0" and area[1] != "0" and area.isdigit()):
        return False
    if not (subscriber.isdigit() and 5 <= len(subscriber) <= 8):
        return False
    if len(groups) > 1 and any(not 2 <= len(g) <= 4 for g in groups):
        return False
    return 8 <= len(area) + len(subscriber) <= 10


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
        return (
            len(clearing) == 5
            and luhn.is_valid(clearing[:5])
            and 6 <= len(account) <= 10
            and luhn.is_valid(account)
        )
    if c == 3300 or c == 3782:  # Nordea personkonto: the personnummer
        return len(account) == 10 and luhn.is_valid(account)
    if 1100 <= c <= 5999 or 9000 <= c <= 9999:  # type 1: 7 digits
        return len(account) == 7 and _mod11_ok(clearing[1:4] + account)
    return False


class Scanner:
    """Finds every kind in a text. `names`: the registry subjects' names to look for."""

    def __init__(self, names: Iterable[str] = (), today: date | None = None) -> None:
        self.today = today or date.today()
        wanted = sorted(
            {" ".join(n.split()) for n in names if len(n.split()) >= 2}, key=len, reverse=True
        )
        # Whole names: runs of capitalised words are looked up, two to five words at a time.
        self.names = {tuple(n.split()) for n in wanted}
        self.longest = max((len(n) for n in self.names), default=0)

    def scan(self, text: str) -> list[Finding]:
        urls = [(m.start(), m.end()) for m in _URL.finditer(text)]
        found = [
            *self._emails(text),
            *self._numbers(text, urls),
            *self._ibans(text),
            *self._ips(text),
            *self._addresses(text),
            *self._names(text),
        ]
        return _without_overlaps(found, urls)

    def _emails(self, text: str) -> Iterator[Finding]:
        if "@" not in text:
            return
        for m in _EMAIL.finditer(text):
            if _FILE_ENDING.fullmatch(m.group().rpartition(".")[2]):
                continue  # logo@2x.png
            if text.startswith(":", m.end()) and re.match(
                r"[\w/~.]", text[m.end() + 1 : m.end() + 2]
            ):
                continue  # git@github.com:org/repo.git: a login on a host, as scp writes it
            if text[m.start() - 1 : m.start()] == "<" and _MESSAGE_ID_BEFORE.search(
                text, max(0, m.start() - 300), m.start()
            ):
                continue
            yield Finding(m.start(), m.end(), EMAIL, m.group())

    def _numbers(self, text: str, urls: list[tuple[int, int]]) -> Iterator[Finding]:
        for m in _NUMBER.finditer(text):
            if _inside(m.start(), urls) or _glued(text, m.start(), m.end()):
                continue
            found = self._number(text, m.start(), m.group())
            if found is not None:
                yield found

    def _number(self, text: str, start: int, run: str) -> Finding | None:
        digits = run.translate(_NOT_DIGITS)
        if len(digits) < 8:  # dates, times, amounts: shorter than any kind here
            return None
        # A personnummer: 10 or 12 digits, the short form with its - or +, a bare one only
        # after a word that says so. With a space for the dash ("811218 9876") it is as likely
        # two numbers side by side (a date and a time, two fields of a log), so a word must
        # say so too.
        if len(digits) in (10, 12) and "(" not in run and not run.startswith("+"):
            compact = _SPACE_BEFORE_LAST_FOUR.sub("-", run).replace(" ", "")
            if _PNR.fullmatch(compact):
                written = " " not in run
                separated = written and _SEPARATED.search(compact) is not None
                said = _PNR_WORDS.search(text, max(0, start - 40), start) is not None
                if separated or said or (written and len(digits) == 12):
                    kind = idnumbers.kind(compact, self.today)
                    # Bare twelve digits: also an invoice or OCR number or a time stamp
                    # (yyyymmddHHMM), unless said, or a living person's date of birth that no
                    # word calls something else.
                    if kind is not None and (
                        said
                        or separated
                        or (_alive(digits, self.today) and not _other(text, start))
                    ):
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
        if swedish_phone_shape(run):
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
                if _ip_ok(m.group()) and not _version(text, m.start(), m.end()):
                    yield Finding(m.start(), m.end(), IP, m.group())
        if "::" in text or text.count(":") >= 5:
            for m in _IPV6.finditer(text):
                value = m.group()
                if value.endswith(":") and not value.endswith("::"):
                    value = value[:-1]  # the colon after it: "from 2001:db8::1: 11: Bye"
                if value.count(":") >= 2 and len(value) >= 3 and _ip_ok(value):
                    yield Finding(m.start(), m.start() + len(value), IP, value)

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


def _other(text: str, start: int) -> bool:
    """Whether a word just before the number says it is something else (a snapshot, a job)."""
    return _OTHER_NUMBER_WORDS.search(text, max(0, start - 25), start) is not None


def _alive(digits: str, today: date) -> bool:
    """A twelve-digit personnummer's year: not in the future, not over 120 years ago."""
    return today.year - 120 <= int(digits[:4]) <= today.year


def _ip_ok(text: str) -> bool:
    """An address that can name someone's device: not 0.x.x.x or :: (no device), loopback,
    multicast, broadcast or the reserved 240/4 (netmasks such as 255.255.255.0 among them)."""
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast:
        return False
    return ip.version == 6 or not (ip.is_reserved or text.startswith("0"))


def _version(text: str, start: int, end: int) -> bool:
    """Whether the four numbers at start:end are a version, not an address: after a word such
    as "version" or a product's name and slash, or in a Windows package name (~~6.1.1.1)."""
    if text[start - 1 : start] == "~":
        return True
    if _VERSION_BEFORE.search(text, max(0, start - 30), start):
        return True
    return (
        text[start - 1 : start] == "/"
        and (end == len(text) or text[end] in " \t\n;)\"'")
        and _PRODUCT_BEFORE.search(text, max(0, start - 40), start) is not None
    )


def _glued(text: str, start: int, end: int) -> bool:
    """Whether a run of digits is part of a longer token, not a number of its own: a file's
    name (banner-0872354963.jpg), a path, an id (blk_-1608999687919862906), the groups of a
    UUID or a disk's WWID (6005-08b4-0551-7273), a version or a time."""
    before = text[start - 1] if start else ""
    if before in _GLUE_BEFORE and before:
        return True
    if before == "-" and start >= 2 and text[start - 2].isalnum():
        return True
    return end + 1 < len(text) and text[end] in _GLUE_AFTER and text[end + 1].isalnum()


def _is_bank(text: str, start: int) -> bool:
    return _BANK_WORDS.search(text, max(0, start - 25), start) is not None


def _address_word_before(text: str, start: int) -> bool:
    return (
        re.search(
            r"(?:adress|address|postadress|box \d+)[:\s]*$",
            text[max(0, start - 30) : start],
            re.IGNORECASE,
        )
        is not None
    )


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
