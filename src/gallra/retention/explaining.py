"""`plan`, `explain` and `enforce` as text a staff member understands, in Swedish or English.

Every sentence is a gettext message (English msgid, Swedish in locale/sv); `lang` picks the
language for the call, so a command's `--lang` and a function's `lang` argument still decide.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from gallra.policy.model import Policy
from gallra.retention.planner import Decision
from gallra.retention.stores import stores

TYPES = {
    "customer": pgettext_lazy("record type", "customer"),
    "agreement": pgettext_lazy("record type", "agreement"),
    "person": pgettext_lazy("record type", "person"),
    "account": pgettext_lazy("record type", "user account"),
    "request": pgettext_lazy("record type", "request"),
    "document": pgettext_lazy("record type", "technical document"),
    "credential": pgettext_lazy("record type", "credential"),
    "invoice": pgettext_lazy("record type", "invoice"),
    "prospect": pgettext_lazy("record type", "prospect"),
    "quote": pgettext_lazy("record type", "quote"),
    "correspondence": pgettext_lazy("record type", "correspondence"),
    "hold": pgettext_lazy("record type", "hold"),
    "mail": pgettext_lazy("record type", "mail message"),
}
HOLD_REASONS = {
    "agreement": pgettext_lazy("hold reason", "agreement"),
    "negotiation": pgettext_lazy("hold reason", "ongoing negotiation"),
    "legal": pgettext_lazy("hold reason", "legal requirement"),
}
# Why a record is kept (planner.Decision.reason), with the decision's details as %(...)s.
REASONS = {
    "hold": pgettext_lazy("kept", "held by %(hold)s (%(hold_reason)s) until %(until)s"),
    "hold_open": pgettext_lazy("kept", "held by %(hold)s (%(hold_reason)s) until further notice"),
    "not_yet": pgettext_lazy("kept", "kept until %(until)s"),
    "legal": pgettext_lazy("kept", "kept by law until %(until)s (%(source)s)"),
    "active": pgettext_lazy("kept", "the agreement is still active"),
    "no_agreement": pgettext_lazy("kept", "no agreement recorded — check the customer"),
    "account_open": pgettext_lazy("kept", "the account is open"),
    "no_account": pgettext_lazy("kept", "no account closed"),
    "other_role": pgettext_lazy("kept", "the person is still a contact or billing contact"),
    "overdue": pgettext_lazy("kept", "deleted at the next enforcement run"),
    "dependant": pgettext_lazy("kept", "data that depends on it is still kept"),
    "follows": pgettext_lazy("kept", "deleted together with its %(follows)s"),
    "no_rule": pgettext_lazy("kept", "no retention rule applies"),
    "no_trigger": pgettext_lazy("kept", "the rule has not started counting"),
    "unreadable": pgettext_lazy(
        "kept", "the message cannot be read (%(mailbox)s, %(folder)s, %(uid)s) — check it by hand"
    ),
}


def type_name(record_type: str, lang: str) -> str:
    """A record type as staff call it (a store names its own: a dataset's rows)."""
    with translation.override(lang):
        if record_type in TYPES:
            return str(TYPES[record_type])
        for store in stores():
            name = store.type_name(record_type, lang)
            if name:
                return name
        return record_type


def reason(d: Decision, lang: str) -> str:
    """Why a record is kept, in a phrase (a store says its own reasons: "owner unknown")."""
    with translation.override(lang):
        if d.reason not in REASONS:
            for store in stores():
                said = store.reason(d, lang)
                if said:
                    return said
        details = dict(d.details)
        code = d.reason
        if code == "hold" and details.get("until") is None:
            code = "hold_open"
        if "hold_reason" in details:
            details["hold_reason"] = str(HOLD_REASONS[details["hold_reason"]])
        if "follows" in details:
            details["follows"] = type_name(details["follows"], lang)
        details = {k: v.isoformat() if isinstance(v, date) else v for k, v in details.items()}
        return str(REASONS[code]) % details


def heading(policy: Policy, at: date, lang: str) -> str:
    org = policy.organisation.brand or policy.organisation.name
    with translation.override(lang):
        return _("Retention plan for %(org)s on %(day)s:") % {"org": org, "day": at}


def delete_line(d: Decision, lang: str) -> str:
    """One line of `plan`: a record that goes, under which rule and since when."""
    with translation.override(lang):
        verb = pgettext("plan", "delete")
        why = d.rule
        if d.due:
            why = _("%(rule)s, due since %(due)s") % {"rule": d.rule, "due": d.due}
        return f"{verb:8} {type_name(d.record_type, lang)} {d.ref} ({why})"


def keep_line(policy: Policy, d: Decision, lang: str) -> str:
    """One line of `plan --all`: a record that stays, and why."""
    with translation.override(lang):
        verb = pgettext("plan", "keep")
        return f"{verb:8} {type_name(d.record_type, lang)} {d.ref}: {reason(d, lang)}"


def summary(due: Counter, kept: Counter, lang: str) -> str:
    total = sum(due.values())
    with translation.override(lang):
        said = ngettext(
            "%(n)s record to delete, %(kept)s kept.",
            "%(n)s records to delete, %(kept)s kept.",
            total,
        ) % {"n": total, "kept": sum(kept.values())}
        lines = ["\n" + said]
        for (rule, record_type), n in sorted(due.items()):
            lines.append(f"  {rule}: {n} {type_name(record_type, lang)}")
    return "\n".join(lines)


def explanation(policy: Policy, d: Decision, at: date, lang: str) -> str:
    """`gallra explain`: one record's fate on `at`, in a sentence or two."""
    with translation.override(lang):
        name = f"{type_name(d.record_type, lang)} {d.ref}"
        if d.action == "delete":
            return _("%(name)s is deleted on %(day)s under rule %(rule)s (due since %(due)s).") % {
                "name": name,
                "day": at,
                "rule": d.rule,
                "due": d.due,
            }
        why = reason(d, lang) + (f" ({d.rule})" if d.rule else "")
        said = _("%(name)s is kept on %(day)s: %(reason)s.") % {
            "name": name,
            "day": at,
            "reason": why,
        }
        if d.due and d.reason not in ("not_yet", "legal"):
            said += " " + _("The rule makes it due from %(due)s.") % {"due": d.due}
        return said


def enforce_summary(s, lang: str) -> str:
    """`gallra enforce`'s text summary: how many went, by rule, and each store's part."""
    deleted = sum(s.deleted.values())
    values = {"day": s.at, "n": deleted}
    with translation.override(lang):
        if s.dry_run:
            head = ngettext(
                "Dry run for %(day)s: %(n)s record would be deleted.",
                "Dry run for %(day)s: %(n)s records would be deleted.",
                deleted,
            )
        elif s.resumed:
            head = ngettext(
                "Enforcement for %(day)s (resumed run): %(n)s record deleted.",
                "Enforcement for %(day)s (resumed run): %(n)s records deleted.",
                deleted,
            )
        else:
            head = ngettext(
                "Enforcement for %(day)s: %(n)s record deleted.",
                "Enforcement for %(day)s: %(n)s records deleted.",
                deleted,
            )
        lines = [head % values]
        for (rule, record_type), n in sorted(s.deleted.items()):
            lines.append(f"  {rule}: {n} {type_name(record_type, lang)}")
        for store in stores():  # each store says its own part (homes, logins, mail, ...)
            if s.stores.get(store.id):
                lines += store.summary_lines(s.stores[store.id], lang)
    return "\n".join(lines)
