"""Synthetic Swedish demo data, in the import format (docs/import.md), for `gallra demo`.

Names and addresses come from Faker's sv_SE locale with a fixed seed, so the same day gives
the same document. Every date is counted from `today`, so that each state the policy treats
differently exists whenever the demo runs: active customers, an agreement that ended last
month, one that ended two years ago, a user account closed while its company stays, holds of
every reason, correspondence and sales records on both sides of the three-month rule, and
invoices spanning more financial years than the accounting law keeps.

Nothing here is real: e-mail domains are the reserved `.example`, mobile numbers come from
the series PTS keeps for fiction (070-174 06 05 … 99), and private customers carry no
personnummer (the policy does not hold one, P1). Every ref starts with `demo-`, so demo
records never collide with imported real ones.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from faker import Faker

SEED = 19990817
PREFIX = "demo-"

# (state, kind, how many). The states are what tests and the demo's users look for.
ACTIVE = "active"
ENDED_LAST_MONTH = "ended_last_month"
ENDED_TWO_YEARS_AGO = "ended_two_years_ago"
CLOSED_ACCOUNT = "closed_account"  # a user account closed, the company still a customer
RENEWED = "renewed"  # an earlier agreement ended, a later one is active
SCENARIOS = (
    (ACTIVE, "company", 12),
    (ACTIVE, "private", 4),
    (ENDED_LAST_MONTH, "company", 3),
    (ENDED_LAST_MONTH, "private", 1),
    (ENDED_TWO_YEARS_AGO, "company", 3),
    (ENDED_TWO_YEARS_AGO, "private", 2),
    (CLOSED_ACCOUNT, "company", 3),
    (RENEWED, "company", 2),
)

MONTHLY_FEES = ("149.00", "295.00", "495.00", "1250.00", "2400.00", "4950.00")
REQUESTS = {
    "order": (
        "Beställning av webbhotell Bas med domänen {domain}.",
        "Beställning av ytterligare 50 GB lagring.",
        "Beställning av SSL-certifikat för {domain}.",
        "Beställning av extra e-postkonton (5 st).",
    ),
    "service_change": (
        "Byt PHP-version till 8.3 för {domain}.",
        "Uppgradering från Bas till Företag från nästa månad.",
        "Flytta DNS för {domain} till Red Cloud IT:s namnservrar.",
        "Öka minnet på den virtuella servern till 8 GB.",
    ),
    "other": (
        "Frågar om backupens lagringstid.",
        "Vill ha en kopia av avtalet skickad per post.",
        "Undrar varför e-post till {domain} studsar.",
        "Ber om kontakt angående faktura.",
    ),
}
DOCUMENTS = (
    ("Driftdokumentation", "Server: web{n}.redcloud.example\nTjänster: nginx, PHP-FPM, MariaDB\n"),
    ("Nätverksskiss", "VLAN 12 kontor, VLAN 20 servrar. Brandvägg mot internet.\n"),
    ("DNS-zon", "{domain}. IN MX 10 mail.{domain}.\nwww IN CNAME {domain}.\n"),
    ("Återställningsplan", "Återställ från nattlig backup; kontakta kunden före omstart.\n"),
)
SYSTEMS = ("WordPress-admin", "MariaDB", "SFTP", "Kontrollpanel", "Routerns webbgränssnitt")
SUBJECTS = (
    "Fråga om faktura {n}",
    "Problem att logga in",
    "Offertförfrågan: webbhotell",
    "Uppsägning av avtal",
    "Flytt av domän",
    "Tack för hjälpen",
    "Driftstörning i morse?",
)
QUOTES = (
    "Webbhotell Företag, 12 månader, inklusive SSL och daglig backup.",
    "Virtuell server 4 vCPU / 8 GB, driftavtal med 4 timmars insatstid.",
    "Flytt av 12 e-postkonton och webbplats från nuvarande leverantör.",
    "Managed IT för kontor med 8 arbetsplatser.",
)


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def last_month(today: date, day_of_month: int) -> date:
    previous = today.replace(day=1) - timedelta(days=1)
    return previous.replace(day=min(day_of_month, previous.day))


def ascii_slug(text: str, sep: str = "") -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", sep, text).strip(sep)


@dataclass
class _Builder:
    today: date
    rng: random.Random
    fake: Faker
    usernames: set[str] = field(default_factory=set)
    invoice_numbers: dict[int, int] = field(default_factory=dict)
    mobiles: int = 5  # next number of the PTS fiction series 070-174 06 05 … 99

    def day_between(self, first: date, last: date) -> date:
        if last <= first:
            return first
        return first + timedelta(days=self.rng.randrange((last - first).days + 1))

    def mobile(self) -> str:
        number = f"070-174 06 {self.mobiles:02d}"
        self.mobiles = 5 if self.mobiles >= 99 else self.mobiles + 1
        return number

    def username(self, first: str, last: str) -> str:
        base = (ascii_slug(first)[:8] + ascii_slug(last)[:1]) or "user"
        name, n = base, 1
        while name in self.usernames:
            n += 1
            name = f"{base}{n}"
        self.usernames.add(name)
        return name

    def invoice_number(self, year: int) -> str:
        self.invoice_numbers[year] = self.invoice_numbers.get(year, 0) + 1
        return f"RC{year}-{self.invoice_numbers[year]:04d}"


def build(today: date, seed: int = SEED) -> dict:
    """The whole demo as one import document; the same `today` and `seed` give the same one."""
    fake = Faker("sv_SE")
    fake.seed_instance(seed)
    b = _Builder(today=today, rng=random.Random(seed), fake=fake)  # noqa: S311 - demo data
    customers = []
    number = 0
    for state, kind, count in SCENARIOS:
        for index in range(count):
            number += 1
            customers.append(_customer(b, f"{PREFIX}C{number:03d}", state, kind, index))
    prospects, quotes, prospect_mail = _sales(b)
    correspondence = _customer_mail(b, customers) + prospect_mail
    holds = _holds(b, customers, prospects, quotes, correspondence)
    return {
        "customers": customers,
        "correspondence": correspondence,
        "prospects": prospects,
        "quotes": quotes,
        "holds": holds,
    }


def _agreements(b: _Builder, ref: str, state: str) -> list[dict]:
    today, rng = b.today, b.rng
    start = b.day_between(years_before(today, 9), years_before(today, 1))
    if state in (ACTIVE, CLOSED_ACCOUNT):
        return [{"ref": f"{ref}-A1", "start": start.isoformat(), "end": None}]
    if state == ENDED_LAST_MONTH:
        end = last_month(today, rng.randint(1, 28))
    elif state == ENDED_TWO_YEARS_AGO:
        end = years_before(today, 2) - timedelta(days=rng.randint(0, 20))
        start = min(start, years_before(end, 1))
    else:  # RENEWED: the first agreement ended, the next one followed
        end = b.day_between(start + timedelta(days=200), today - timedelta(days=60))
        return [
            {"ref": f"{ref}-A1", "start": start.isoformat(), "end": end.isoformat()},
            {"ref": f"{ref}-A2", "start": (end + timedelta(days=1)).isoformat(), "end": None},
        ]
    start = min(start, end - timedelta(days=180))
    return [{"ref": f"{ref}-A1", "start": start.isoformat(), "end": end.isoformat()}]


def _customer(b: _Builder, ref: str, state: str, kind: str, index: int) -> dict:
    fake, rng, today = b.fake, b.rng, b.today
    agreements = _agreements(b, ref, state)
    start = date.fromisoformat(agreements[0]["start"])
    end_text = agreements[-1]["end"]
    end = date.fromisoformat(end_text) if end_text else None
    last_day = end or today

    if kind == "company":
        name = fake.company()
        domain = f"{ascii_slug(name, '-')}.example"
        org_number = fake.org_id()
        n_people = rng.randint(2, 4)
    else:
        name = ""
        domain = "privat.example"
        org_number = ""
        n_people = 1

    people = []
    for i in range(n_people):
        first, last = fake.first_name(), fake.last_name()
        if kind == "private":
            name = f"{first} {last}"
            roles = ["user", "contact", "billing_contact"]
            email = f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}"
        else:
            roles = ["contact", "billing_contact"] if i == 0 else ["user"]
            if i == 1:
                roles.append("contact")
            email = f"{ascii_slug(first)}.{ascii_slug(last)}@{domain}"
        people.append(
            {
                "ref": f"{ref}-P{i + 1}",
                "first_name": first,
                "last_name": last,
                "email": email,
                "postal_address": fake.address(),
                "mobile": b.mobile() if rng.random() < 0.7 else "",
                "roles": roles,
            }
        )

    accounts = []
    for person in people:
        if "user" not in person["roles"]:
            continue
        username = b.username(person["first_name"], person["last_name"])
        opened = b.day_between(start, min(last_day, start + timedelta(days=365)))
        accounts.append(
            {
                "ref": f"{ref}-U{len(accounts) + 1}",
                "person": person["ref"],
                "username": username,
                "home": f"/home/{username}",
                "opened": opened.isoformat(),
                "closed": end.isoformat() if end else None,
            }
        )
    if state == CLOSED_ACCOUNT:
        # The company stays; one user left. The first such customer closed it recently (still
        # inside the year P15 keeps it), the others more than a year ago (due for deletion).
        closed = today - timedelta(days=rng.randint(30, 90) if index == 0 else 400)
        accounts[-1]["closed"] = max(closed, date.fromisoformat(accounts[-1]["opened"])).isoformat()

    requests = []
    for i in range(rng.randint(1, 4)):
        kind_ = rng.choice(tuple(REQUESTS))
        requests.append(
            {
                "ref": f"{ref}-R{i + 1}",
                "kind": kind_,
                "created": b.day_between(start, last_day).isoformat(),
                "text": rng.choice(REQUESTS[kind_]).format(domain=domain),
            }
        )

    documents = []
    for i in range(rng.randint(1, 2) if kind == "company" else 0):
        title, content = rng.choice(DOCUMENTS)
        documents.append(
            {
                "ref": f"{ref}-D{i + 1}",
                "title": f"{title} – {name}",
                "created": b.day_between(start, last_day).isoformat(),
                "content": content.format(n=rng.randint(1, 9), domain=domain),
            }
        )

    credentials = []
    for i in range(rng.randint(1, 3)):
        credential = {
            "ref": f"{ref}-K{i + 1}",
            "system": rng.choice(SYSTEMS),
            "username": fake.user_name(),
            "secret": fake.password(length=16),
            "created": b.day_between(start, last_day).isoformat(),
        }
        if accounts and rng.random() < 0.5:
            credential["account"] = rng.choice(accounts)["ref"]
        credentials.append(credential)

    billing = next(p["ref"] for p in people if "billing_contact" in p["roles"])
    fee = rng.choice(MONTHLY_FEES)
    invoices = []
    for agreement in agreements:
        a_start = date.fromisoformat(agreement["start"])
        a_end = date.fromisoformat(agreement["end"]) if agreement["end"] else today
        # One annual invoice in January for each year of the agreement, at most ten years back.
        for year in range(max(a_start.year, today.year - 10), a_end.year + 1):
            issued = max(date(year, 1, 15), a_start)
            if issued > a_end:
                continue
            invoices.append(
                {
                    "ref": f"{ref}-F{len(invoices) + 1}",
                    "number": b.invoice_number(year),
                    "issued": issued.isoformat(),
                    # JufCorp's financial year is the calendar year.
                    "fiscal_year_end": date(year, 12, 31).isoformat(),
                    "amount": str(Decimal(fee) * 12),
                    "currency": "SEK",
                    "billing_contact": billing,
                }
            )

    return {
        "ref": ref,
        "name": name,
        "kind": kind,
        "org_number": org_number,
        "agreements": agreements,
        "people": people,
        "accounts": accounts,
        "requests": requests,
        "documents": documents,
        "credentials": credentials,
        "invoices": invoices,
    }


def _sales(b: _Builder) -> tuple[list[dict], list[dict], list[dict]]:
    """Prospects, their quotes and mail: half recent, half past the three-month rule (P19)."""
    fake, rng, today = b.fake, b.rng, b.today
    prospects, quotes, mail = [], [], []
    for i in range(8):
        ref = f"{PREFIX}S{i + 1:02d}"
        age = rng.randint(5, 80) if i % 2 == 0 else rng.randint(100, 300)
        created = today - timedelta(days=age)
        company = i % 3 != 2
        name = fake.company() if company else f"{fake.first_name()} {fake.last_name()}"
        email = (
            f"info@{ascii_slug(name, '-')}.example"
            if company
            else f"{ascii_slug(name, '.')}@privat.example"
        )
        prospects.append({"ref": ref, "name": name, "email": email, "created": created.isoformat()})
        mail.append(
            {
                "ref": f"{PREFIX}M-{ref}",
                "received": created.isoformat(),
                "prospect": ref,
                "sender": email,
                "subject": "Offertförfrågan: webbhotell",
            }
        )
        if i < 6:
            quotes.append(
                {
                    "ref": f"{PREFIX}Q{len(quotes) + 1:02d}",
                    "prospect": ref,
                    "created": b.day_between(
                        created, min(today, created + timedelta(14))
                    ).isoformat(),
                    "description": rng.choice(QUOTES),
                }
            )
    return prospects, quotes, mail


def _customer_mail(b: _Builder, customers: list[dict]) -> list[dict]:
    rng, today = b.rng, b.today
    mail = []
    for customer in customers[::2]:
        sender = next(p for p in customer["people"] if "contact" in p["roles"])["email"]
        ended = customer["agreements"][-1]["end"]
        last_day = date.fromisoformat(ended) if ended else today
        for _ in range(rng.randint(1, 2)):
            received = b.day_between(last_day - timedelta(days=240), last_day)
            mail.append(
                {
                    "ref": f"{PREFIX}M{len(mail) + 1:03d}",
                    "received": received.isoformat(),
                    "customer": customer["ref"],
                    "sender": sender,
                    "subject": rng.choice(SUBJECTS).format(n=rng.randint(1000, 9999)),
                }
            )
    return mail


def _holds(b, customers, prospects, quotes, correspondence) -> list[dict]:
    """One hold of each reason that still stands, and one that has run out."""
    today = b.today
    by_state = {}
    for customer, (state, _kind) in zip(customers, _states(), strict=True):
        by_state.setdefault(state, []).append(customer)
    old_prospect = prospects[1]  # created more than three months ago
    old_quote = next(q for q in quotes if q["prospect"] == old_prospect["ref"])
    active_ref = by_state[ACTIVE][0]["ref"]
    old_mail = min(
        (m for m in correspondence if m.get("customer") == active_ref),
        key=lambda m: m["received"],
    )
    ended = by_state[ENDED_TWO_YEARS_AGO][0]
    return [
        {
            "ref": f"{PREFIX}H1",
            "target": f"correspondence:{old_mail['ref']}",
            "reason": "agreement",
            "until": (today + timedelta(days=180)).isoformat(),
            "note": "Bilaga till gällande avtal (överenskommen SLA-ändring).",
        },
        {
            "ref": f"{PREFIX}H2",
            "target": f"prospect:{old_prospect['ref']}",
            "reason": "negotiation",
            "until": (today + timedelta(days=60)).isoformat(),
            "note": "Pågående förhandling om driftavtal.",
        },
        {
            "ref": f"{PREFIX}H3",
            "target": f"quote:{old_quote['ref']}",
            "reason": "negotiation",
            "until": (today - timedelta(days=7)).isoformat(),
            "note": "Förhandlingen avslutades utan avtal; spärren har löpt ut.",
        },
        {
            "ref": f"{PREFIX}H4",
            "target": f"customer:{ended['ref']}",
            "reason": "legal",
            "until": (today + timedelta(days=365)).isoformat(),
            "note": "Pågående tvist om obetald faktura; underlaget ska bevaras.",
        },
    ]


def _states() -> list[tuple[str, str]]:
    return [(state, kind) for state, kind, count in SCENARIOS for _ in range(count)]
