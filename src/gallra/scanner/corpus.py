"""A labelled corpus for measuring the scanner: Swedish and English text with personal data
in the forms people write it, and look-alikes that are not personal data.

Made with Faker (sv_SE) and seeded, so every run is the same. The labels come from how each
value was made here, never from the scanner: check digits are computed from the standards
(Luhn, ISO 7064 mod 97), dates are real or deliberately impossible. The look-alikes:
numbers that fail Luhn, impossible dates such as 900231, organisation numbers, order and OCR
numbers of ten digits, phone numbers inside URLs, dates, times, amounts and version strings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker
from stdnum.luhn import calc_check_digit

from gallra.scanner import scan


@dataclass
class Document:
    text: str = ""
    labels: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, text: str, kind: str | None = None) -> None:
        if kind is not None:
            self.labels.append((len(self.text), len(self.text) + len(text), kind))
        self.text += text


class Maker:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)  # noqa: S311 (test data, not secrets)
        self.fake = Faker("sv_SE")
        self.fake.seed_instance(seed)
        self.en = Faker("en_GB")
        self.en.seed_instance(seed + 1)
        self.subjects = list(dict.fromkeys(self._full_name() for _ in range(400)))
        self.others = [n for n in (self._full_name() for _ in range(400)) if n not in self.subjects]

    def _full_name(self) -> str:
        return f"{self.fake.first_name()} {self.fake.last_name()}"

    # --- personal data, in the forms people write it ------------------------------------

    def personnummer(self, coordination: bool = False) -> tuple[str, str]:
        """(text, kind): a real date, Luhn right; the form varies."""
        born = date(1925, 1, 1) + timedelta(days=self.r.randrange(365 * 95))
        day = born.day + (60 if coordination else 0)
        short = f"{born:%y%m}{day:02d}{self.r.randrange(1000):03d}"
        short += calc_check_digit(short)
        kind = scan.SAMORDNINGSNUMMER if coordination else scan.PERSONNUMMER
        century = f"{born.year // 100}"
        old = date.today().year - born.year >= 100
        form = self.r.random()
        if old and form < 0.5:
            return f"{short[:6]}+{short[6:]}", kind
        if form < 0.45:
            return f"{short[:6]}-{short[6:]}", kind
        if form < 0.7:
            return f"{century}{short[:6]}-{short[6:]}", kind
        if form < 0.85:
            return f"{century}{short}", kind
        return f"{short}", kind  # bare: only ever written after a word that says what it is

    def phone(self) -> str:
        r = self.r
        mobile = f"7{r.choice('02369')}{r.randrange(10**7):07d}"
        area = r.choice(["8", "31", "40", "18", "13", "90", "54", "19", "46"])
        rest = f"{r.randrange(10 ** (8 - len(area)), 10 ** (9 - len(area))):d}"[: 9 - len(area)]
        return r.choice(
            [
                f"0{mobile[:2]}-{mobile[2:5]} {mobile[5:7]} {mobile[7:]}",
                f"0{mobile}",
                f"+46 {mobile[:2]} {mobile[2:5]} {mobile[5:7]} {mobile[7:]}",
                f"+46{mobile}",
                f"0{mobile[:2]} {mobile[2:5]} {mobile[5:7]} {mobile[7:]}",
                f"0{area}-{rest[:3]} {rest[3:5]} {rest[5:]}".rstrip(),
                f"0{area}-{rest}",
                f"+46 {area} {rest}",
                f"0046 {area} {rest}",
                f"+46 (0){area} {rest[:3]} {rest[3:]}",
                self._faker_phone(),
            ]
        )

    def _faker_phone(self) -> str:
        """Faker's Swedish forms, but not its impossible area codes (000-..., (0)03 ...)."""
        while True:
            number = self.fake.phone_number()
            digits = "".join(c for c in number.replace("(0)", "") if c.isdigit())
            rest = digits[2:] if number.startswith("+46") else digits[1:]
            if rest[:1] not in ("", "0"):
                return number

    def phone_intl(self) -> str:
        r = self.r
        return r.choice(
            [
                f"+44 20 {r.randrange(7000, 8999)} {r.randrange(1000, 9999)}",
                f"+1 {r.randrange(201, 989)} {r.randrange(200, 999)} {r.randrange(1000, 9999)}",
                f"+49 30 {r.randrange(1000000, 9999999)}",
                f"+47 {r.randrange(20, 99)} {r.randrange(10, 99)} {r.randrange(10, 99)} "
                f"{r.randrange(10, 99)}",
                f"+358 {r.randrange(40, 50)} {r.randrange(1000000, 9999999)}",
            ]
        )

    def address(self) -> str:
        street = self.fake.street_address()
        code = self.fake.postcode()
        code = f"{code[:3]} {code[3:]}" if self.r.random() < 0.6 else code
        glue = self.r.choice(["\n", ", ", ", "])
        return f"{street}{glue}{code} {self.fake.city()}"

    def iban(self) -> str:
        if self.r.random() < 0.5:
            value = self.fake.iban()  # Faker's, valid
        else:
            bban = f"{self.r.randrange(100, 999)}{self.r.randrange(10**16, 10**17)}"
            check = 98 - int("".join(str(int(c, 36)) for c in bban + "SE00")) % 97
            value = f"SE{check:02d}{bban}"
        if self.r.random() < 0.5:
            value = " ".join(value[i : i + 4] for i in range(0, len(value), 4))
        return value

    def bank_account(self) -> str:
        r = self.r
        if r.random() < 0.5:  # Handelsbanken: clearing 6xxx, 9 digits with mod 11
            while True:
                body = f"{r.randrange(10**7, 10**8)}"
                check = _mod11_check(body)
                if check is not None:
                    return f"6{r.randrange(100, 999)}-{body}{check}"
        while True:  # SEB, type 1: clearing 5xxx + 7 digits, mod 11 over the last 10 digits
            clearing = f"5{r.randrange(100, 999)}"
            body = f"{r.randrange(10**5, 10**6)}"
            check = _mod11_check(clearing[1:] + body)
            if check is not None:
                return f"{clearing}-{body}{check}"

    def ip(self) -> str:
        """A device's address: not loopback (127/8) and not multicast (ff00::/8), which name
        no one's device (the same random draws as before: 127 becomes 128, ffxx fexx)."""
        r = self.r
        if r.random() < 0.7:
            first = r.randrange(1, 224)
            return ".".join(
                str(x)
                for x in (
                    128 if first == 127 else first,
                    r.randrange(256),
                    r.randrange(256),
                    r.randrange(1, 255),
                )
            )
        groups = [f"{r.randrange(65536):x}" for _ in range(8)]
        if groups[0].startswith("ff") and len(groups[0]) == 4:
            groups[0] = "fe" + groups[0][2:]
        if r.random() < 0.5:
            return f"2001:db8:{groups[2]}:{groups[3]}::{groups[7]}"
        return ":".join(groups)

    # --- look-alikes that are not personal data -----------------------------------------

    def look_alike(self) -> str:
        r = self.r
        kind = r.randrange(12)
        if kind == 0:  # Luhn wrong (written with its dash: bare, it would be a phone number)
            pnr, _ = self.personnummer()
            pnr = pnr if "-" in pnr or "+" in pnr else f"{pnr[:-4]}-{pnr[-4:]}"
            return pnr[:-1] + str((int(pnr[-1]) + r.randrange(1, 10)) % 10)
        if kind == 1:  # an impossible date, Luhn right
            short = f"{r.choice(['900231', '810230', '750431', '001300', '991232'])}"
            short += f"{r.randrange(1000):03d}"
            short += calc_check_digit(short)
            return f"{short[:6]}-{short[6:]}"
        if kind == 2:  # an organisation number (third digit 2 or more), Luhn right
            org = f"{r.choice([55, 16, 20, 80, 71])}{r.randrange(20, 99)}{r.randrange(10**5):05d}"
            org += calc_check_digit(org)
            return f"org.nr {org[:6]}-{org[6:]}"
        if kind == 3:  # an order or OCR number of ten digits
            number = f"{r.randrange(10**9, 10**10)}"
            return r.choice(
                [
                    f"Ordernummer {number}",
                    f"OCR: {number}",
                    f"order #{number}",
                    f"fakturanr {number}",
                ]
            )
        if kind == 4:  # a phone number in a URL
            return r.choice(
                [
                    f"https://kund.example/kontakt/0{self._mobile()}",
                    f"https://example.se/?tel=0{self._mobile()}&x=1",
                    f"www.example.com/p/08{r.randrange(10**6, 10**7)}",
                ]
            )
        if kind == 5:
            return f"{r.randrange(2000, 2030)}-{r.randrange(1, 13):02d}-{r.randrange(1, 29):02d}"
        if kind == 6:
            return f"kl. {r.randrange(24):02d}:{r.randrange(60):02d}:{r.randrange(60):02d}"
        if kind == 7:
            return f"{r.randrange(1, 999)} {r.randrange(100, 999)} kr"
        if kind == 8:
            return f"version {r.randrange(1, 20)}.{r.randrange(10)}.{r.randrange(30)}"
        if kind == 9:  # someone who is not a registry subject
            return r.choice(self.others)
        if kind == 10:
            return f"ärende {r.randrange(10**5, 10**6)}, kundnummer {r.randrange(10**4, 10**5)}"
        return f"port {r.randrange(1, 65535)}, {r.randrange(2, 64)} GB RAM"

    def _mobile(self) -> str:
        return f"7{self.r.choice('0236')}{self.r.randrange(10**7):07d}"

    def document(self) -> Document:
        d = Document()
        r = self.r
        for _ in range(r.randrange(3, 9)):
            choice = r.randrange(14)
            d.add(r.choice(OPENINGS))
            if choice == 0:
                d.add(r.choice(["Mejla ", "E-post: ", "Contact ", "skicka till "]))
                d.add(self.fake.email() if r.random() < 0.8 else self.en.email(), scan.EMAIL)
            elif choice in (1, 2):
                text, kind = self.personnummer(coordination=choice == 2)
                bare = text.isdigit() and len(text) == 10
                d.add(
                    r.choice(["personnummer ", "pnr: ", "Personnr ", "samordningsnummer "])
                    if bare or r.random() < 0.4
                    else r.choice(["", "(", "född "])
                )
                d.add(text, kind)
            elif choice == 3:
                d.add(r.choice(["Ring ", "Tel: ", "mobil ", "Phone: ", "nå mig på "]))
                d.add(self.phone(), scan.PHONE)
            elif choice == 4:
                d.add(r.choice(["Call ", "Tel. ", "ring "]))
                d.add(self.phone_intl(), scan.PHONE_INTL)
            elif choice == 5:
                d.add(r.choice(["Adress: ", "Skicka till ", "Leveransadress:\n", "Address: "]))
                d.add(self.address(), scan.ADDRESS)
            elif choice == 6:
                d.add(r.choice(["IBAN ", "Betala till IBAN: ", "konto (IBAN) "]))
                d.add(self.iban(), scan.IBAN)
            elif choice == 7:
                d.add(r.choice(["Kontonummer ", "bankkonto: ", "clearing och konto "]))
                d.add(self.bank_account(), scan.BANK_ACCOUNT)
            elif choice == 8:
                d.add(r.choice(["Inloggning från ", "from ", "IP-adress ", "src="]))
                d.add(self.ip(), scan.IP)
            elif choice in (9, 10):
                d.add(r.choice(["Hej ", "Kontakt: ", "Enligt ", "Dear "]))
                d.add(r.choice(self.subjects), scan.NAME)
            else:
                d.add(self.look_alike())
            d.add(r.choice(CLOSINGS))
        return d


def _mod11_check(body: str) -> str | None:
    """The digit that makes `body + digit` pass mod 11 with weights 1, 2, ... 10 from the
    right (Bankgirot's type 1 accounts and Handelsbanken), or None when 10 would be needed."""
    total = sum(int(c) * ((i + 1) % 10 + 1) for i, c in enumerate(reversed(body)))
    digit = -total % 11
    return None if digit == 10 else str(digit)


OPENINGS = [
    "",
    "",
    " ",
    "\n",
    "Hej! ",
    "Tack för ditt mejl. ",
    "Regarding the ticket, ",
    "Servern startades om. ",
    "See attached. ",
    "Enligt avtalet ",
    "Log: ",
]
CLOSINGS = [
    ". ",
    ".\n",
    ", ",
    " och sedan inget mer. ",
    "\n",
    " - please advise.\n",
    " (se nedan). ",
    "; ",
    " Mvh\n",
]


def corpus(documents: int = 2000, seed: int = 1) -> tuple[list[Document], list[str]]:
    """The documents, and the registry subjects' names to give the scanner."""
    maker = Maker(seed)
    return [maker.document() for _ in range(documents)], maker.subjects
