"""The subject's data in gallra's own registry: found by e-mail (any letter case) and, for a
private customer, by personnummer.

Erasure keeps what the law keeps (a rule with `overrides_erasure`, such as invoices under
Bokföringslagen) and what a hold keeps, and says until when. A customer record is never
erased here: it is a contract party, and goes under the retention rules once its last
agreement has ended (the answer says when).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models.functions import Lower

from gallra.evidence import log
from gallra.logins.retention import forget_accounts
from gallra.policy.model import Policy
from gallra.registry import crypto, tombstones
from gallra.registry.models import (
    Account,
    Correspondence,
    Credential,
    Customer,
    Hold,
    Invoice,
    Person,
    Prospect,
    Quote,
)
from gallra.retention.kinds import KINDS, covering_holds
from gallra.retention.planner import Decision, fates, rules_by_type
from gallra.subjects.identity import Identity

STORE = "gallra"
# Display and erasure order: what depends on a record comes before it.
ORDER = [
    "credential",
    "account",
    "invoice",
    "correspondence",
    "quote",
    "person",
    "prospect",
    "customer",
]
SINCE = {
    "customer": "created_at",
    "person": "created_at",
    "account": "opened",
    "credential": "created",
    "invoice": "issued",
    "correspondence": "received",
    "quote": "created",
    "prospect": "created",
}
SHOWN = {  # plain fields that make the personal ones understandable
    "customer": ("kind",),
    "person": ("is_user", "is_contact", "is_billing_contact"),
    "account": ("opened", "closed"),
    "credential": ("system",),
    "invoice": ("number", "issued", "amount", "currency"),
    "correspondence": ("received",),
    "quote": ("created",),
    "prospect": ("created",),
}
SEALED = {"credential": {"secret"}, "document": {"content"}}


def records(identity: Identity) -> dict[str, list]:
    """The subject's records per record type (model instances)."""
    emails = identity.values("email")
    persons = list(Person.objects.annotate(e=Lower("email")).filter(e__in=emails))
    person_ids = [p.pk for p in persons]
    accounts = list(Account.objects.filter(person_id__in=person_ids)) if person_ids else []
    prospects = list(Prospect.objects.annotate(e=Lower("email")).filter(e__in=emails))
    out = {
        "person": persons,
        "account": accounts,
        "credential": list(Credential.objects.filter(account__in=accounts)) if accounts else [],
        "invoice": list(Invoice.objects.filter(billing_contact_id__in=person_ids))
        if person_ids
        else [],
        "correspondence": list(
            Correspondence.objects.annotate(e=Lower("sender")).filter(e__in=emails)
        ),
        "prospect": prospects,
        "quote": list(Quote.objects.filter(prospect__in=prospects)) if prospects else [],
        "customer": [],
    }
    numbers = identity.values("personnummer")
    if numbers:
        out["customer"] = list(
            Customer.objects.filter(kind=Customer.Kind.PRIVATE, org_number__in=numbers)
        )
    return out


@dataclass
class Item:
    """One record or row of the subject's, as an export shows it."""

    store: str
    table: str
    key: str
    values: dict[str, Any]
    categories: dict[str, str]  # column -> policy category id
    since: date | None = None
    redacted: list[str] = field(default_factory=list)
    whose: str = "own"
    fate: Decision | None = None  # gallra records: what the retention rules do with it
    kept_until: date | None = None  # dataset rows the law keeps


def field_categories(policy: Policy) -> dict[str, str]:
    return {f: c.id for c in policy.category for f in c.fields}


def items(policy: Policy, identity: Identity, at: date) -> list[Item]:
    found = records(identity)
    categories = field_categories(policy)
    out = []
    for record_type in ORDER:
        rows = found[record_type]
        decided = fates(policy, at, record_type, [r.pk for r in rows])
        model = KINDS[record_type].model
        for row in rows:
            values: dict[str, Any] = {}
            cats = {}
            for name in (*SHOWN[record_type], *model.personal_fields):
                if name in SEALED.get(record_type, ()):
                    values[name] = "(encrypted, not shown)"
                else:
                    values[name] = _plain(getattr(row, name))
                if name in model.personal_fields:
                    cats[name] = categories.get(f"{record_type}.{name}", "")
            since = getattr(row, SINCE[record_type])
            since = since.date() if isinstance(since, datetime) else since
            out.append(
                Item(STORE, record_type, row.ref, values, cats, since, fate=decided.get(row.pk))
            )
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


@dataclass
class Kept:
    table: str
    key: str
    reason: str  # "law", "hold", "contract", "dependant"
    until: date | None
    detail: str = ""


@dataclass
class RegistryErasure:
    deleted: dict[str, list[str]] = field(default_factory=dict)
    kept: list[Kept] = field(default_factory=list)


def erase(
    policy: Policy,
    identity: Identity,
    *,
    at: date,
    now: datetime,
    actor: str,
    request_ref: str,
    record_types: set[str] | None = None,
) -> RegistryErasure:
    """Delete the subject's records except what the law or a hold keeps; log each step.

    Call inside a transaction: the deletions and their evidence commit together.
    """
    found = records(identity)
    if record_types is not None:
        found = {t: rows if t in record_types else [] for t, rows in found.items()}
    result = RegistryErasure()
    by_law = {
        t for t, rules in rules_by_type(policy).items() if any(r.overrides_erasure for r in rules)
    }
    kept_ids: dict[str, set[int]] = {t: set() for t in ORDER}
    for record_type in ORDER:
        rows = found[record_type]
        if not rows:
            continue
        decided = fates(policy, at, record_type, [r.pk for r in rows])
        held = _held(record_type, [r.pk for r in rows], at)
        going = []
        for row in rows:
            fate = decided.get(row.pk)
            until = fate.due - timedelta(days=1) if fate and fate.due else None
            if record_type in by_law:
                result.kept.append(
                    Kept(
                        record_type,
                        row.ref,
                        "law",
                        until,
                        fate.details.get("source", "") if fate else "",
                    )
                )
            elif row.pk in held:
                result.kept.append(
                    Kept(
                        record_type,
                        row.ref,
                        "hold",
                        held[row.pk].until,
                        held[row.pk].get_reason_display(),
                    )
                )
            elif record_type == "customer":
                result.kept.append(Kept(record_type, row.ref, "contract", until))
            elif _needed(record_type, row, kept_ids):
                result.kept.append(Kept(record_type, row.ref, "dependant", None))
            else:
                going.append(row)
                continue
            kept_ids[record_type].add(row.pk)
        if going:
            model = KINDS[record_type].model
            if record_type == "customer":  # the data key first: every copy becomes unreadable
                crypto.destroy_keys([r.ref for r in going], now=now, actor=actor, why="erasure")
            model.objects.filter(pk__in=[r.pk for r in going]).delete()
            if record_type == "account":  # login events keep the name only as a pseudonym
                forget_accounts([r.username for r in going])
            refs = [r.ref for r in going]
            tombstones.bury(
                record_type, refs, rule=tombstones.ERASURE, on=at, now=now, request=request_ref
            )  # no import brings them back
            result.deleted[record_type] = refs
            log.append(
                "subject.erase",
                actor=actor,
                at=now,
                record_type=record_type,
                refs=refs,
                customers=_customers(record_type, going),
                data={"request": request_ref, "store": STORE},
            )
    return result


def erase_category(policy: Policy, identity: Identity, category_id: str, **kwargs) -> dict:
    """Erase the subject's records of one category (an upheld objection)."""
    category = policy.category_by_id(category_id)
    types = {f.split(".", 1)[0] for f in category.fields}
    result = erase(policy, identity, record_types=types, **kwargs)
    return {t: len(refs) for t, refs in result.deleted.items()}


def _held(record_type: str, pks: list[int], at: date) -> dict[int, Hold]:
    """pk -> the active hold that keeps it (the one that ends first)."""
    kind = KINDS[record_type]
    annotations = {
        f"hold_{name}": holds.order_by("until").values("ref")[:1]
        for name, holds in covering_holds(kind, at).items()
    }
    rows = kind.model.objects.filter(pk__in=pks).annotate(**annotations).values("pk", *annotations)
    first = {
        row["pk"]: next((v for k, v in row.items() if k.startswith("hold_") and v), None)
        for row in rows
    }
    holds = {h.ref: h for h in Hold.objects.filter(ref__in={r for r in first.values() if r})}
    return {pk: holds[ref] for pk, ref in first.items() if ref}


def _needed(record_type: str, row, kept_ids: dict[str, set[int]]) -> bool:
    """A person stays while a kept account needs it; a prospect while a kept quote does."""
    if record_type == "person":
        return Account.objects.filter(person=row, pk__in=kept_ids["account"]).exists()
    if record_type == "account":
        return Credential.objects.filter(account=row, pk__in=kept_ids["credential"]).exists()
    if record_type == "prospect":
        return Quote.objects.filter(prospect=row, pk__in=kept_ids["quote"]).exists()
    return False


def _customers(record_type: str, rows: list) -> list[str]:
    path = KINDS[record_type].customer_ref
    if not path:
        return []
    model = KINDS[record_type].model
    refs = model.objects.filter(pk__in=[r.pk for r in rows]).values_list(path, flat=True)
    return [r for r in refs if r]


def rectify(
    identity: Identity, attribute: str, value: str, *, now: datetime, actor: str, request_ref: str
) -> dict[str, int]:
    """Change the subject's e-mail or name wherever gallra holds it. Call in a transaction."""
    found = records(identity)
    counts = {}
    changes: list[tuple[str, list, dict]] = []
    if attribute == "email":
        changes = [
            ("person", found["person"], {"email": value}),
            ("prospect", found["prospect"], {"email": value}),
            ("correspondence", found["correspondence"], {"sender": value}),
        ]
    elif attribute == "name":
        first, _, last = value.rpartition(" ")
        changes = [
            (
                "person",
                found["person"],
                {"first_name": first or last, "last_name": last if first else ""},
            ),
            ("prospect", found["prospect"], {"name": value}),
        ]
    elif attribute == "username":
        changes = [("account", found["account"], {"username": value})]
    for record_type, rows, values in changes:
        if not rows:
            continue
        KINDS[record_type].model.objects.filter(pk__in=[r.pk for r in rows]).update(**values)
        counts[record_type] = len(rows)
        log.append(
            "subject.rectify",
            actor=actor,
            at=now,
            record_type=record_type,
            refs=[r.ref for r in rows],
            customers=_customers(record_type, rows),
            data={"request": request_ref, "store": STORE, "fields": sorted(values)},
        )
    return counts
