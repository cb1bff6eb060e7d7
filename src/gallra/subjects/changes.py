"""Rectification (Art. 16), restriction (Art. 18) and objection (Art. 21)."""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction

from gallra.policy.model import Policy
from gallra.registry.models import Hold
from gallra.subjects import datasets, registry_store
from gallra.subjects.cases import CaseError, check_change, close, identity_of, note
from gallra.subjects.identity import Identity
from gallra.subjects.models import Objection, Restriction, SubjectRequest


def restriction_of(email: str) -> Restriction | None:
    return (
        Restriction.objects.filter(email__iexact=email, lifted__isnull=True)
        .select_related("request")
        .first()
    )


def rectify(policy: Policy, request: SubjectRequest, *, now: datetime, actor: str) -> dict:
    """Change one identity attribute everywhere it is held: gallra first, then each dataset.

    A failing dataset leaves the request open naming it; rerun to finish (a store already
    changed finds nothing to change under the old value).
    """
    restriction = restriction_of(request.email)
    if restriction is not None:
        raise CaseError(
            f"{request.email} is restricted (Art. 18) since {restriction.since:%Y-%m-%d}: "
            "the data is only stored, so it is not changed. Lift the restriction first."
        )
    check_change(request.change_field, request.change_value)
    identity = identity_of(request)
    field, value = request.change_field, request.change_value
    done: dict[str, dict] = {}
    failed = {}
    with transaction.atomic():
        done["gallra"] = registry_store.rectify(
            identity, field, value, now=now, actor=actor, request_ref=request.ref
        )
    for dataset in policy.dataset:
        try:
            with datasets.engine(dataset).begin() as conn:
                done[dataset.id] = datasets.rectify(conn, dataset, identity, field, value)
        except datasets.ERRORS as exc:
            failed[dataset.id] = datasets.failure(dataset, exc)
            continue
        with transaction.atomic():
            note(
                "subject.rectify",
                request,
                actor=actor,
                at=now,
                store=dataset.id,
                tables=done[dataset.id],
                field=field,
            )
    with transaction.atomic():
        if failed:
            request.status = SubjectRequest.Status.IN_PROGRESS
            request.note = "\n".join(failed.values())
            request.save()
        else:
            close(request, {"changed": done}, now=now, actor=actor)
    return {"changed": done, "failed": failed}


def restrict(request: SubjectRequest, *, now: datetime, actor: str, at: date) -> Restriction:
    """Mark the subject restricted and hold their gallra records from scheduled deletion:
    under Art. 18 the data is kept (e.g. for a legal claim) and only stored."""
    if restriction_of(request.email) is not None:
        raise CaseError(f"{request.email} is already restricted")
    found = registry_store.records(identity_of(request))
    with transaction.atomic():
        restriction = Restriction.objects.create(email=request.email, request=request, since=now)
        holds = []
        for record_type in ("person", "account", "correspondence", "prospect"):
            for record in found[record_type]:
                holds.append(
                    Hold(
                        ref=f"{request.ref}-{record_type}-{record.pk}",
                        target_type=record_type,
                        target_ref=record.ref,
                        reason=Hold.Reason.LEGAL,
                        note=f"Restriction of processing (Art. 18), {request.ref}",
                    )
                )
        Hold.objects.bulk_create(holds)
        note("subject.restrict", request, actor=actor, at=now, holds=len(holds))
        close(request, {"restricted": True, "holds": len(holds)}, now=now, actor=actor)
    return restriction


def lift_restriction(email: str, *, now: datetime, actor: str) -> Restriction:
    restriction = restriction_of(Identity.of(email).email)
    if restriction is None:
        raise CaseError(f"{email} is not restricted")
    with transaction.atomic():
        restriction.lifted, restriction.lifted_by = now, actor
        restriction.save()
        Hold.objects.filter(ref__startswith=f"{restriction.request.ref}-").delete()
        note("subject.unrestrict", restriction.request, actor=actor, at=now)
    return restriction


def object_to(
    policy: Policy, request: SubjectRequest, *, now: datetime, actor: str, at: date
) -> Objection:
    """Record an objection. Against legitimate interests it is upheld: the subject's data of
    that category is erased (Art. 21(1), 17(1)(c)); against other bases it does not apply."""
    category = next((c for c in policy.category if c.id == request.category), None)
    if not request.category:
        raise CaseError(f"{request.ref}: set the category the subject objects to first")
    if category is None:
        known = ", ".join(c.id for c in policy.category)
        raise CaseError(f"category {request.category!r} is not in the policy ({known})")
    applies = category.legal_basis in ("legitimate_interests", "public_task")
    outcome = Objection.Outcome.UPHELD if applies else Objection.Outcome.NOT_APPLICABLE
    erased = {}
    with transaction.atomic():
        if applies:
            erased = registry_store.erase_category(
                policy,
                identity_of(request),
                category.id,
                at=at,
                now=now,
                actor=actor,
                request_ref=request.ref,
            )
        objection = Objection.objects.create(
            email=request.email,
            request=request,
            category=category.id,
            legal_basis=category.legal_basis,
            outcome=outcome,
            at=now,
        )
        note(
            "subject.objection",
            request,
            actor=actor,
            at=now,
            category=category.id,
            outcome=outcome,
            erased=erased,
        )
        close(request, {"outcome": outcome, "erased": erased}, now=now, actor=actor)
    return objection
