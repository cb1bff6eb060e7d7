"""A test oracle for the JufCorp retention rules, written from the policy text alone.

It reads an import document (the `docs/import.md` format, dates as `datetime.date`) and says,
for a date, which records are due, which are held, and when each invoice may go. It uses
nothing from gallra's planner or duration code, so that the two can disagree.

The rules, as the policy promises them:

* P15, customer data: one year after the customer's last agreement ended (every agreement
  has an end; the latest end counts). A customer with an open agreement is active.
* P15, closed account: an account closed on C is due at C + 1 year, and so are the
  credentials on it; a person whose accounts are all closed is due a year after the latest
  closing, unless they are still a contact or billing contact.
* P17: an invoice is kept through the seventh year after the calendar year in which its
  financial year closed.
* P19: correspondence, prospects and quotes go three months after their last activity (or
  their creation / receipt when there was none).
* Every rule honours holds; a record something kept depends on stays too; agreements go
  exactly with their customer.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

Key = tuple[str, str]  # (record type, ref)


def add_months(start: date, months: int) -> date:
    """Calendar months later, the day clamped to the month's length (31 Jan + 1M = 28/29 Feb)."""
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_years(start: date, years: int) -> date:
    return add_months(start, 12 * years)


def invoice_due(fiscal_year_end: date) -> date:
    """Kept through 31 December of the seventh year after the FY's calendar year."""
    return date(fiscal_year_end.year + 8, 1, 1)


def sales_due(created: date, last_activity: date | None) -> date:
    return add_months(last_activity or created, 3)


def relationship_end(customer: dict) -> date | None:
    """The latest end when the customer has agreements and all of them have ended."""
    agreements = customer.get("agreements", [])
    if not agreements or any(a.get("end") is None for a in agreements):
        return None
    return max(a["end"] for a in agreements)


@dataclass
class Outcome:
    due: set[Key] = field(default_factory=set)
    held: set[Key] = field(default_factory=set)
    # What would be due by a rule, ignoring holds and dependants (for reporting).
    rule_due: set[Key] = field(default_factory=set)


class Registry:
    """Indexes over an import document."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc
        self.customers = {c["ref"]: c for c in doc.get("customers", [])}
        self.prospects = {p["ref"]: p for p in doc.get("prospects", [])}
        self.quotes = {q["ref"]: q for q in doc.get("quotes", [])}
        self.correspondence = {m["ref"]: m for m in doc.get("correspondence", [])}
        self.owner: dict[Key, str] = {}  # customer-owned record -> customer ref
        self.person_of_account: dict[str, str] = {}
        for cref, c in self.customers.items():
            for key in ("agreements", "people", "accounts", "requests", "documents"):
                for r in c.get(key, []):
                    self.owner[(TYPES[key], r["ref"])] = cref
            for r in c.get("credentials", []):
                self.owner[("credential", r["ref"])] = cref
            for r in c.get("invoices", []):
                self.owner[("invoice", r["ref"])] = cref
            for a in c.get("accounts", []):
                self.person_of_account[a["ref"]] = a["person"]

    def all_keys(self) -> set[Key]:
        keys = {("customer", ref) for ref in self.customers} | set(self.owner)
        keys |= {("prospect", r) for r in self.prospects}
        keys |= {("quote", r) for r in self.quotes}
        keys |= {("correspondence", r) for r in self.correspondence}
        return keys

    def customer_data(self, cref: str) -> set[Key]:
        """Everything a hold on the customer keeps (invoices have their own rule and holds)."""
        c = self.customers[cref]
        out = {("customer", cref)}
        for key in ("agreements", "people", "accounts", "requests", "documents", "credentials"):
            out |= {(TYPES[key], r["ref"]) for r in c.get(key, [])}
        out |= {("quote", r) for r, q in self.quotes.items() if q.get("customer") == cref}
        out |= {
            ("correspondence", r)
            for r, m in self.correspondence.items()
            if m.get("customer") == cref
        }
        return out

    def held(self, at: date) -> set[Key]:
        held: set[Key] = set()
        for hold in self.doc.get("holds", []):
            if hold.get("until") is not None and hold["until"] < at:
                continue  # expired: a hold is active while until >= the date
            kind, _, ref = hold["target"].partition(":")
            held.add((kind, ref))
            if kind == "agreement":  # keeps its customer, and so all of the customer's data
                held |= self.customer_data(self.owner[("agreement", ref)])
            elif kind == "customer":
                held |= self.customer_data(ref)
            elif kind == "person":
                c = self.customers[self.owner[("person", ref)]]
                accounts = {a["ref"] for a in c.get("accounts", []) if a["person"] == ref}
                held |= {("account", a) for a in accounts}
                held |= {
                    ("credential", cr["ref"])
                    for cr in c.get("credentials", [])
                    if cr.get("account") in accounts
                }
            elif kind == "account":
                c = self.customers[self.owner[("account", ref)]]
                held |= {
                    ("credential", cr["ref"])
                    for cr in c.get("credentials", [])
                    if cr.get("account") == ref
                }
            elif kind == "prospect":
                held |= {("quote", r) for r, q in self.quotes.items() if q.get("prospect") == ref}
                held |= {
                    ("correspondence", r)
                    for r, m in self.correspondence.items()
                    if m.get("prospect") == ref
                }
        return held


TYPES = {
    "agreements": "agreement",
    "people": "person",
    "accounts": "account",
    "requests": "request",
    "documents": "document",
    "credentials": "credential",
    "invoices": "invoice",
}

RECORD_TYPES = frozenset({"customer", *TYPES.values(), "prospect", "quote", "correspondence"})

DATE_KEYS = {
    "start",
    "end",
    "opened",
    "closed",
    "created",
    "received",
    "last_activity",
    "fiscal_year_end",
    "issued",
    "until",
}


def with_dates(value):
    """A copy of an import document with its ISO date strings as `datetime.date`."""
    if isinstance(value, list):
        return [with_dates(v) for v in value]
    if isinstance(value, dict):
        return {
            k: date.fromisoformat(v) if k in DATE_KEYS and isinstance(v, str) else with_dates(v)
            for k, v in value.items()
        }
    return value


def outcome(doc: dict, at: date) -> Outcome:
    """What the policy says happens to every record of `doc` on `at`."""
    doc = with_dates(doc)
    reg = Registry(doc)
    held = reg.held(at)
    by_rule: set[Key] = set()

    for cref, c in reg.customers.items():
        end = relationship_end(c)
        if end is not None and add_years(end, 1) <= at:  # P15, customer data
            by_rule |= {("customer", cref)}
            for key in ("agreements", "people", "accounts", "requests", "documents"):
                by_rule |= {(TYPES[key], r["ref"]) for r in c.get(key, [])}
            by_rule |= {("credential", r["ref"]) for r in c.get("credentials", [])}
        closed_due = {
            a["ref"]
            for a in c.get("accounts", [])
            if a.get("closed") is not None and add_years(a["closed"], 1) <= at
        }  # P15, closed account
        by_rule |= {("account", a) for a in closed_due}
        by_rule |= {
            ("credential", cr["ref"])
            for cr in c.get("credentials", [])
            if cr.get("account") in closed_due
        }
        for p in c.get("people", []):
            accounts = [a for a in c.get("accounts", []) if a["person"] == p["ref"]]
            roles = p.get("roles") or []
            if (
                accounts
                and all(a.get("closed") is not None for a in accounts)
                and add_years(max(a["closed"] for a in accounts), 1) <= at
                and "contact" not in roles
                and "billing_contact" not in roles
            ):
                by_rule.add(("person", p["ref"]))
        for inv in c.get("invoices", []):  # P17
            if invoice_due(inv["fiscal_year_end"]) <= at:
                by_rule.add(("invoice", inv["ref"]))
    for kind, records, start in (
        ("prospect", reg.prospects, "created"),
        ("quote", reg.quotes, "created"),
        ("correspondence", reg.correspondence, "received"),
    ):  # P19
        for ref, r in records.items():
            if sales_due(r[start], r.get("last_activity")) <= at:
                by_rule.add((kind, ref))

    candidate = by_rule - held
    due: set[Key] = set()
    for cref, c in reg.customers.items():
        creds = {
            r["ref"]: r for r in c.get("credentials", []) if ("credential", r["ref"]) in candidate
        }
        due |= {("credential", r) for r in creds}
        accounts_due = set()
        for a in c.get("accounts", []):
            staying = [
                cr
                for cr in c.get("credentials", [])
                if cr.get("account") == a["ref"] and cr["ref"] not in creds
            ]
            if ("account", a["ref"]) in candidate and not staying:
                accounts_due.add(a["ref"])
        due |= {("account", a) for a in accounts_due}
        people_due = set()
        for p in c.get("people", []):
            accounts = {a["ref"] for a in c.get("accounts", []) if a["person"] == p["ref"]}
            if ("person", p["ref"]) in candidate and accounts <= accounts_due:
                people_due.add(p["ref"])
        due |= {("person", p) for p in people_due}
        others = {
            (TYPES[key], r["ref"]) for key in ("requests", "documents") for r in c.get(key, [])
        }
        others_due = others & candidate
        due |= others_due
        if (
            ("customer", cref) in candidate
            and {p["ref"] for p in c.get("people", [])} <= people_due
            and others <= others_due
            and set(creds) == {r["ref"] for r in c.get("credentials", [])}
        ):
            due.add(("customer", cref))
            due |= {("agreement", a["ref"]) for a in c.get("agreements", [])}
        due |= {
            ("invoice", i["ref"])
            for i in c.get("invoices", [])
            if ("invoice", i["ref"]) in candidate
        }
    due |= {k for k in candidate if k[0] in ("prospect", "quote", "correspondence")}
    return Outcome(due=due, held=held, rule_due=by_rule)


def keys_of(refs: Iterable[Key]) -> list[str]:
    """Readable listing for assertion messages."""
    return sorted(f"{t}:{r}" for t, r in refs)
