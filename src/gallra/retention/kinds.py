"""How each kind of registry record meets the policy's triggers, holds and dependants.

The policy says *when* (a trigger and a duration); this module says *what that means for a
row*, as SQL conditions the database evaluates set-wise, never row by row in Python:

* a trigger's condition for a threshold date T ("the trigger happened on or before T"),
  and the trigger's date for display;
* which holds cover a record (its own, and those of what owns it);
* which dependants keep it (a row cannot go while a row that needs it stays).

The threshold turns date arithmetic into a comparison: a record is due at date D when its
trigger date is on or before the last trigger date whose retention has run out by D (see
`rules.threshold`). So every database compares dates only, and month ends, leap days and
end-of-year counting are computed once, in Python, in `policy.durations`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from gallra.registry.models import (
    Account,
    Agreement,
    Correspondence,
    Credential,
    Customer,
    CustomerRequest,
    Hold,
    Invoice,
    Person,
    Prospect,
    Quote,
    Record,
    TechnicalDocument,
)


@dataclass(frozen=True)
class Trigger:
    due_q: Callable[[date], Q]  # the trigger happened on or before this date
    annotations: Callable[[], dict[str, models.Expression]]  # for explaining, per row


@dataclass
class Kind:
    model: type[Record]
    stage: int  # deletion order: a lower stage is deleted first
    customer_id: str | None  # ORM path to the owning customer's id
    customer_ref: str | None  # ORM path to the owning customer's ref
    held_by: dict[str, str]  # record type -> ORM path to the ref its holds name
    dependants: list[tuple[type[Record], str]] = field(default_factory=list)  # (model, fk)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    follows: str | None = None  # deleted together with this kind of owner
    other_role: Q | None = None  # what makes the `other_role` exception hold

    @property
    def record_type(self) -> str:
        return self.model.record_type


def _relationship(customer_id: str) -> Trigger:
    """Trigger `agreement_ended`: the customer had agreements and the last one has ended."""

    def agreements():
        return Agreement.objects.filter(customer_id=OuterRef(customer_id))

    def due_q(t: date) -> Q:
        # One set of ended customers for the whole table, not two lookups for every row.
        still_on = Agreement.objects.filter(Q(end__isnull=True) | Q(end__gt=t))
        ended = Agreement.objects.exclude(customer_id__in=still_on.values("customer_id"))
        return Q(**{f"{customer_id}__in": ended.values("customer_id")})

    def annotations():
        # The latest end, where an open-ended agreement counts as later than any date.
        last = agreements().order_by(F("end").desc(nulls_first=True)).values("end")[:1]
        return {
            "t_agreement_ended": Subquery(last),
            "has_agreement": Exists(agreements()),
        }

    return Trigger(due_q, annotations)


def _person_accounts_closed(person_id: str) -> Trigger:
    """Trigger `account_closed` for a person: every account of theirs is closed."""

    def accounts():
        return Account.objects.filter(person_id=OuterRef(person_id))

    def due_q(t: date) -> Q:
        still_open = accounts().filter(Q(closed__isnull=True) | Q(closed__gt=t))
        return Q(Exists(accounts())) & ~Q(Exists(still_open))

    def annotations():
        last = accounts().order_by(F("closed").desc(nulls_first=True)).values("closed")[:1]
        return {"t_account_closed": Subquery(last), "has_account": Exists(accounts())}

    return Trigger(due_q, annotations)


def _column(name: str, path: str) -> Trigger:
    return Trigger(
        lambda t: Q(**{f"{path}__lte": t}),
        lambda: {f"t_{name}": F(path)},
    )


def _last_activity(start: str) -> Trigger:
    return Trigger(
        lambda t: Q(last_activity__lte=t) | Q(last_activity__isnull=True, **{f"{start}__lte": t}),
        lambda: {"t_last_activity": Coalesce("last_activity", start)},
    )


def _created(path: str) -> Trigger:
    return _column("created", path)


KINDS: dict[str, Kind] = {
    k.record_type: k
    for k in [
        Kind(
            Credential,
            stage=1,
            customer_id="customer_id",
            customer_ref="customer__ref",
            held_by={
                "credential": "ref",
                "account": "account__ref",
                "person": "account__person__ref",
                "customer": "customer__ref",
            },
            triggers={
                "agreement_ended": _relationship("customer_id"),
                "account_closed": _column("account_closed", "account__closed"),
                "created": _created("created"),
            },
        ),
        Kind(
            Account,
            stage=2,
            customer_id="person__customer_id",
            customer_ref="person__customer__ref",
            held_by={
                "account": "ref",
                "person": "person__ref",
                "customer": "person__customer__ref",
            },
            dependants=[(Credential, "account_id")],
            triggers={
                "agreement_ended": _relationship("person__customer_id"),
                "account_closed": _column("account_closed", "closed"),
            },
        ),
        Kind(
            CustomerRequest,
            stage=3,
            customer_id="customer_id",
            customer_ref="customer__ref",
            held_by={"request": "ref", "customer": "customer__ref"},
            triggers={
                "agreement_ended": _relationship("customer_id"),
                "created": _created("created"),
            },
        ),
        Kind(
            TechnicalDocument,
            stage=4,
            customer_id="customer_id",
            customer_ref="customer__ref",
            held_by={"document": "ref", "customer": "customer__ref"},
            triggers={
                "agreement_ended": _relationship("customer_id"),
                "created": _created("created"),
            },
        ),
        Kind(
            Person,
            stage=5,
            customer_id="customer_id",
            customer_ref="customer__ref",
            held_by={"person": "ref", "customer": "customer__ref"},
            dependants=[(Account, "person_id")],
            triggers={
                "agreement_ended": _relationship("customer_id"),
                "account_closed": _person_accounts_closed("pk"),
            },
            other_role=Q(is_contact=True) | Q(is_billing_contact=True),
        ),
        Kind(
            Invoice,
            stage=6,
            customer_id=None,
            customer_ref="customer_ref",
            held_by={"invoice": "ref"},
            triggers={
                "fiscal_year_ended": _column("fiscal_year_ended", "fiscal_year_end"),
                "created": _created("issued"),
            },
        ),
        Kind(
            Quote,
            stage=7,
            customer_id=None,
            customer_ref="customer__ref",
            held_by={"quote": "ref", "prospect": "prospect__ref", "customer": "customer__ref"},
            triggers={"last_activity": _last_activity("created"), "created": _created("created")},
        ),
        Kind(
            Correspondence,
            stage=8,
            customer_id=None,
            customer_ref="customer__ref",
            held_by={
                "correspondence": "ref",
                "prospect": "prospect__ref",
                "customer": "customer__ref",
            },
            triggers={
                "last_activity": _last_activity("received"),
                "created": _created("received"),
            },
        ),
        Kind(
            Prospect,
            stage=9,
            customer_id=None,
            customer_ref=None,
            held_by={"prospect": "ref"},
            triggers={"last_activity": _last_activity("created"), "created": _created("created")},
        ),
        Kind(
            Agreement,
            stage=10,
            customer_id="customer_id",
            customer_ref="customer__ref",
            held_by={"agreement": "ref", "customer": "customer__ref"},
            follows="customer",
        ),
        Kind(
            Customer,
            stage=11,
            customer_id="pk",
            customer_ref="ref",
            held_by={"customer": "ref"},
            dependants=[
                (Person, "customer_id"),
                (CustomerRequest, "customer_id"),
                (TechnicalDocument, "customer_id"),
                (Credential, "customer_id"),
            ],
            triggers={"agreement_ended": _relationship("pk")},
        ),
    ]
}

# References that become empty when the record they point at is deleted (on_delete=SET_NULL).
SET_NULL: dict[str, list[tuple[type[Record], str]]] = {
    "customer": [(Invoice, "customer_id"), (Quote, "customer_id"), (Correspondence, "customer_id")],
    "person": [(Invoice, "billing_contact_id")],
    "prospect": [(Quote, "prospect_id"), (Correspondence, "prospect_id")],
}


def covering_holds(kind: Kind, at: date) -> dict[str, models.QuerySet]:
    """The holds active on `at` that cover a record of `kind` (OuterRef: the record).

    Its own, those on what owns it, and, for what a customer owns, those on any of the
    customer's agreements: agreements go with their customer, so holding one holds it.
    """
    active = Hold.objects.filter(Q(until__isnull=True) | Q(until__gte=at))
    out = {}
    for record_type, path in kind.held_by.items():
        out[record_type] = active.filter(target_type=record_type, target_ref=OuterRef(path))
        if record_type == "customer":
            agreements = Agreement.objects.filter(customer__ref=OuterRef(OuterRef(path)))
            out["agreement_of_customer"] = active.filter(
                target_type="agreement", target_ref__in=agreements.values("ref")
            )
    return out


def active_hold(kind: Kind, at: date) -> Q:
    """The records of `kind` that a hold active on `at` covers (as `covering_holds` says).

    Holds are few and records many: the record types that have an active hold are looked up
    first (one small query), and a record is matched against only those, by an IN over the
    holds, not by a lookup per record and hold type. With no hold on anything that covers
    the kind, nothing is asked of each record.
    """
    active = Hold.objects.filter(Q(until__isnull=True) | Q(until__gte=at))
    types = set(active.order_by().values_list("target_type", flat=True).distinct())
    q = Q(pk__in=[])
    for record_type, path in kind.held_by.items():
        if record_type in types:
            refs = active.filter(target_type=record_type).values("target_ref")
            q |= Q(**{f"{path}__in": refs})
        if record_type == "customer" and "agreement" in types:
            held = active.filter(target_type="agreement").values("target_ref")
            customers = Agreement.objects.filter(ref__in=held).values("customer__ref")
            q |= Q(**{f"{path}__in": customers})
    return q
