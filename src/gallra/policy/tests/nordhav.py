"""A second provider, filled in from the template as its CEO would: Nordhav Drift AB.

Not JufCorp: another name, its own rules (customer data 18 months, correspondence 6 months,
backups 14 days) and its own roles (`vd`, `drift`, `salj`). Tests import `nordhav_text()` or
`write_nordhav(path)` to get a policy that started from `gallra policy new`.
"""

from __future__ import annotations

from pathlib import Path

from gallra.policy.template import fill, template_text

NAME = "Nordhav Drift AB"
ROLES = ("vd", "drift", "salj")

# Each placeholder of the template (policies/template.toml), as Nordhav fills it.
VALUES: dict[str, str | None] = {
    "organisation name": NAME,
    "brand": "Nordhav",
    "organisation number": "559123-4561",
    "country code": "SE",
    "e-mail address for privacy questions": "integritet@nordhav.example",
    "phone number": "+46 31 70 70 70",
    "opening hours, in Swedish": "Vardagar 08–17",
    "opening hours, in English": "Weekdays 08–17",
    "accountable role id": "vd",
    "accountable role, in Swedish": "VD",
    "accountable role, in English": "CEO",
    "technical role id": "drift",
    "technical role, in Swedish": "Drift",
    "technical role, in English": "Operations",
    "sales role id": "salj",
    "sales role, in Swedish": "Sälj",
    "sales role, in English": "Sales",
    "purpose of customer details, in Swedish": "Veta vem kunden är och fakturera rätt bolag.",
    "purpose of customer details, in English": "Know who the customer is and bill them.",
    "purpose of contact details, in Swedish": "Nå kundens kontaktpersoner vid driftstörningar.",
    "purpose of contact details, in English": "Reach the customer's contacts during outages.",
    "purpose of user accounts, in Swedish": "Ge användarna tillgång till sina tjänster.",
    "purpose of user accounts, in English": "Give users access to their services.",
    "purpose of technical documentation, in Swedish": "Drifta kundens servrar.",
    "purpose of technical documentation, in English": "Run the customer's servers.",
    "purpose of passwords to the customer's systems, in Swedish": "Logga in i kundens system.",
    "purpose of passwords to the customer's systems, in English": "Log in to their systems.",
    "purpose of orders and requests, in Swedish": "Utföra det kunden beställt.",
    "purpose of orders and requests, in English": "Carry out what the customer ordered.",
    "accounting law": "Bokföringslagen (1999:1078) 7 kap. 2 §",
    "where correspondence is kept, in Swedish": "Företagets e-postlådor.",
    "where correspondence is kept, in English": "The company's mailboxes.",
    "purpose of correspondence, in Swedish": "Besvara kunder och intressenter.",
    "purpose of correspondence, in English": "Answer customers and prospects.",
    "purpose of prospect lists and quotes, in Swedish": "Lämna offerter.",
    "purpose of prospect lists and quotes, in English": "Make quotes.",
    "customer data: how long after the last agreement ends": "P18M",
    "user accounts: how long after the account is closed": "P18M",
    "accounting records: how long the law says": "P7Y",
    "correspondence and sales: how long after the last activity": "P6M",
    "login logs: how long": "P6M",
    "how long backups are kept": "P14D",
    "how long a full IP address can be revealed": "P3M",
    "security measures, in Swedish": "Tvåfaktorsinloggning och krypterade säkerhetskopior.",
    "security measures, in English": "Two-factor login and encrypted backups.",
    "how long a cookie choice holds": "P6M",
}


def nordhav_text(**changes: str | None) -> str:
    """The template filled in for Nordhav; `changes` replace some of its values."""
    return fill(template_text(), {**VALUES, **changes})


def write_nordhav(path: Path, **changes: str | None) -> Path:
    path.write_text(nordhav_text(**changes), encoding="utf-8")
    return path
