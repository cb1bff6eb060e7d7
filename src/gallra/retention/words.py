"""Plan and explanation in words a staff member understands, in Swedish or English."""

from __future__ import annotations

from collections import Counter
from datetime import date

from gallra.policy.model import Policy
from gallra.retention.planner import Decision
from gallra.retention.stores import stores

TYPES = {
    "customer": ("kund", "customer"),
    "agreement": ("avtal", "agreement"),
    "person": ("person", "person"),
    "account": ("användarkonto", "user account"),
    "request": ("beställning/förfrågan", "request"),
    "document": ("teknisk dokumentation", "technical document"),
    "credential": ("lösenord", "credential"),
    "invoice": ("faktura", "invoice"),
    "prospect": ("prospekt", "prospect"),
    "quote": ("offert", "quote"),
    "correspondence": ("korrespondens", "correspondence"),
    "hold": ("bevarandespärr", "hold"),
    "mail": ("e-postmeddelande", "mail message"),
}
HOLD_REASONS = {
    "agreement": ("avtal", "agreement"),
    "negotiation": ("pågående förhandling", "ongoing negotiation"),
    "legal": ("lagkrav", "legal requirement"),
}
REASONS = {
    "hold": (
        "spärrad av {hold} ({hold_reason}) till och med {until}",
        "held by {hold} ({hold_reason}) until {until}",
    ),
    "hold_open": (
        "spärrad av {hold} ({hold_reason}) tills vidare",
        "held by {hold} ({hold_reason}) until further notice",
    ),
    "not_yet": ("sparas till och med {until}", "kept until {until}"),
    "legal": (
        "sparas enligt lag till och med {until} ({source})",
        "kept by law until {until} ({source})",
    ),
    "active": ("avtalet gäller fortfarande", "the agreement is still active"),
    "no_agreement": (
        "inget avtal registrerat — kontrollera kunden",
        "no agreement recorded — check the customer",
    ),
    "account_open": ("kontot är öppet", "the account is open"),
    "no_account": ("inget konto stängt", "no account closed"),
    "other_role": (
        "personen är fortfarande kontaktperson eller fakturaansvarig",
        "the person is still a contact or billing contact",
    ),
    "overdue": ("raderas vid nästa gallring", "deleted at the next enforcement run"),
    "dependant": ("annan data som hör hit sparas ännu", "data that depends on it is still kept"),
    "follows": ("raderas tillsammans med sin {follows}", "deleted together with its {follows}"),
    "no_rule": ("ingen gallringsregel gäller", "no retention rule applies"),
    "no_trigger": ("regeln har inte börjat räknas", "the rule has not started counting"),
    "unreadable": (
        "meddelandet kan inte läsas ({mailbox}, {folder}, {uid}) — kontrollera det",
        "the message cannot be read ({mailbox}, {folder}, {uid}) — check it by hand",
    ),
}


def _i(lang: str) -> int:
    return 0 if lang == "sv" else 1


def type_name(record_type: str, lang: str) -> str:
    if record_type not in TYPES:
        for store in stores():  # a store's own kind of record (a dataset's rows)
            name = store.type_name(record_type, lang)
            if name:
                return name
    return TYPES.get(record_type, (record_type, record_type))[_i(lang)]


def reason(d: Decision, lang: str) -> str:
    if d.reason not in REASONS:
        for store in stores():  # a store's own reason ("owner unknown")
            said = store.reason(d, lang)
            if said:
                return said
    details = dict(d.details)
    code = d.reason
    if code == "hold" and details.get("until") is None:
        code = "hold_open"
    if "hold_reason" in details:
        details["hold_reason"] = HOLD_REASONS[details["hold_reason"]][_i(lang)]
    if "follows" in details:
        details["follows"] = type_name(details["follows"], lang)
    details = {k: v.isoformat() if isinstance(v, date) else v for k, v in details.items()}
    return REASONS[code][_i(lang)].format(**details)


def heading(policy: Policy, at: date, lang: str) -> str:
    org = policy.organisation.brand or policy.organisation.name
    return (
        f"Gallringsplan för {org} den {at}:"
        if lang == "sv"
        else f"Retention plan for {org} on {at}:"
    )


def delete_line(d: Decision, lang: str) -> str:
    verb = "raderas" if lang == "sv" else "delete"
    since = f", {'förfallen sedan' if lang == 'sv' else 'due since'} {d.due}" if d.due else ""
    return f"{verb:8} {type_name(d.record_type, lang)} {d.ref} ({d.rule}{since})"


def keep_line(policy: Policy, d: Decision, lang: str) -> str:
    verb = "sparas" if lang == "sv" else "keep"
    return f"{verb:8} {type_name(d.record_type, lang)} {d.ref}: {reason(d, lang)}"


def summary(due: Counter, kept: Counter, lang: str) -> str:
    lines = []
    total = sum(due.values())
    if lang == "sv":
        lines.append(f"\n{total} poster raderas, {sum(kept.values())} sparas.")
    else:
        lines.append(f"\n{total} records to delete, {sum(kept.values())} kept.")
    for (rule, record_type), n in sorted(due.items()):
        lines.append(f"  {rule}: {n} {type_name(record_type, lang)}")
    return "\n".join(lines)


def explanation(policy: Policy, d: Decision, at: date, lang: str) -> str:
    name = f"{type_name(d.record_type, lang)} {d.ref}"
    if d.action == "delete":
        if lang == "sv":
            return f"{name} raderas den {at} enligt regeln {d.rule} (förfallen sedan {d.due})."
        return f"{name} is deleted on {at} under rule {d.rule} (due since {d.due})."
    rule = f" ({d.rule})" if d.rule else ""
    due = ""
    if d.due and d.reason not in ("not_yet", "legal"):
        due = (
            f" Regeln gör den förfallen från {d.due}."
            if lang == "sv"
            else f" The rule makes it due from {d.due}."
        )
    if lang == "sv":
        return f"{name} sparas den {at}: {reason(d, lang)}{rule}.{due}"
    return f"{name} is kept on {at}: {reason(d, lang)}{rule}.{due}"


def enforce_summary(s, lang: str) -> str:
    deleted = sum(s.deleted.values())
    if lang == "sv":
        head = (
            f"Torrkörning för {s.at}: {deleted} poster skulle raderas."
            if s.dry_run
            else f"Gallring för {s.at}{' (återupptagen körning)' if s.resumed else ''}: "
            f"{deleted} poster raderade."
        )
    else:
        head = (
            f"Dry run for {s.at}: {deleted} records would be deleted."
            if s.dry_run
            else f"Enforcement for {s.at}{' (resumed run)' if s.resumed else ''}: "
            f"{deleted} records deleted."
        )
    lines = [head]
    for (rule, record_type), n in sorted(s.deleted.items()):
        lines.append(f"  {rule}: {n} {type_name(record_type, lang)}")
    for store in stores():  # each store says its own part (homes, logins, mail, ...)
        if s.stores.get(store.id):
            lines += store.summary_lines(s.stores[store.id], lang)
    return "\n".join(lines)
