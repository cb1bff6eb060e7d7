"""The policy's terms in words a subject or staff member reads, in Swedish or English."""

from __future__ import annotations

from gallra.policy.durations import Duration
from gallra.policy.model import Rule

TRIGGERS = {
    "agreement_ended": ("efter att det sista avtalet har upphört", "after the last agreement ends"),
    "account_closed": ("efter att kontot har stängts", "after the account is closed"),
    "created": ("efter att uppgiften registrerades", "after the data was recorded"),
    "last_activity": ("efter den senaste aktiviteten", "after the last activity"),
    "fiscal_year_ended": (
        "efter utgången av det kalenderår då räkenskapsåret avslutades",
        "after the end of the calendar year in which the financial year closed",
    ),
}
UNITS = {
    "years": ("år", "år", "year", "years"),
    "months": ("månad", "månader", "month", "months"),
    "days": ("dag", "dagar", "day", "days"),
}
BASES = {
    "consent": ("samtycke", "consent"),
    "contract": ("avtal", "contract"),
    "legal_obligation": ("rättslig förpliktelse", "legal obligation"),
    "vital_interests": ("grundläggande intressen", "vital interests"),
    "public_task": ("allmänt intresse", "public task"),
    "legitimate_interests": ("berättigat intresse", "legitimate interests"),
}


def i(lang: str) -> int:
    return 0 if lang == "sv" else 1


def duration_words(d: Duration, lang: str) -> str:
    """ "1 år 6 månader", "7 days" """
    parts = []
    for unit in ("years", "months", "days"):
        n = getattr(d, unit)
        if n:
            words = UNITS[unit][2 * i(lang) : 2 * i(lang) + 2]
            parts.append(f"{n} {words[0] if n == 1 else words[1]}")
    return " ".join(parts) or "0"


def rule_words(rule: Rule, lang: str) -> str:
    """ "1 år efter att det sista avtalet har upphört" """
    return f"{duration_words(rule.keep_for, lang)} {TRIGGERS[rule.trigger][i(lang)]}"
