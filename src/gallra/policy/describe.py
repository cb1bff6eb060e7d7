"""The policy's terms as a subject or staff member reads them: durations ("1 år 6 månader"),
retention rules ("1 år efter att det sista avtalet har upphört") and legal bases.

In the active language (wrap a call in `translation.override(lang)`); the sentences are in the
catalogue (locale/sv), never here. The provider's own texts come from the policy file.
"""

from __future__ import annotations

from django.utils.translation import gettext, ngettext, pgettext

from gallra.policy.durations import CookieDuration, Duration
from gallra.policy.model import Rule


def duration_text(d: Duration) -> str:
    """ "1 år 6 månader", "7 days"; "0" for no time at all."""
    parts = []
    if d.years:
        parts.append(ngettext("%(n)d year", "%(n)d years", d.years) % {"n": d.years})
    if d.months:
        parts.append(ngettext("%(n)d month", "%(n)d months", d.months) % {"n": d.months})
    if d.days:
        parts.append(ngettext("%(n)d day", "%(n)d days", d.days) % {"n": d.days})
    return " ".join(parts) or "0"


def cookie_duration_text(d: CookieDuration) -> str:
    """ "30 minuter", "until you close the browser", "13 månader": how long a cookie lasts."""
    if d.session:
        return pgettext("cookie duration", "until you close the browser")
    if d.calendar is not None:
        return duration_text(d.calendar)
    parts = []
    if d.hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", d.hours) % {"n": d.hours})
    if d.minutes:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", d.minutes) % {"n": d.minutes})
    return " ".join(parts)


def area_name(area: str) -> str:
    """An area of responsibility (a key of the policy's `[responsibilities]`) by its name
    ("kunduppgifter"); an area gallra does not know, as the policy spells it."""
    names = {
        "customer_data": pgettext("area of responsibility", "customer data"),
        "correspondence": pgettext("area of responsibility", "correspondence"),
        "logins": pgettext("area of responsibility", "logins"),
        "backups": pgettext("area of responsibility", "backups"),
        "website": pgettext("area of responsibility", "the website"),
        "accounting": pgettext("area of responsibility", "accounting"),
    }
    return names.get(area) or area.replace("_", " ")


def _after_trigger(trigger: str, duration: str) -> str:
    values = {"duration": duration}
    if trigger == "agreement_ended":
        return gettext("%(duration)s after the last agreement ends") % values
    if trigger == "account_closed":
        return gettext("%(duration)s after the account is closed") % values
    if trigger == "created":
        return gettext("%(duration)s after the data was recorded") % values
    if trigger == "last_activity":
        return gettext("%(duration)s after the last activity") % values
    if trigger == "fiscal_year_ended":
        return (
            gettext(
                "%(duration)s after the end of the calendar year in which the financial year closed"
            )
            % values
        )
    raise ValueError(f"unknown trigger {trigger!r}")


def rule_text(rule: Rule) -> str:
    """ "1 år efter att det sista avtalet har upphört": how long, counted from what."""
    return _after_trigger(rule.trigger, duration_text(rule.keep_for))


def legal_basis_text(basis: str) -> str:
    """The legal basis of Art. 6(1) by its common name ("berättigat intresse")."""
    names = {
        "consent": pgettext("legal basis", "consent"),
        "contract": pgettext("legal basis", "contract"),
        "legal_obligation": pgettext("legal basis", "legal obligation"),
        "vital_interests": pgettext("legal basis", "vital interests"),
        "public_task": pgettext("legal basis", "public task"),
        "legitimate_interests": pgettext("legal basis", "legitimate interests"),
    }
    return names[basis]
