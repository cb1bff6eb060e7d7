"""Erasure (Art. 17) across gallra and every connected dataset, store by store.

Each store is all-or-nothing (one transaction); a store that fails leaves the request open,
naming it, and a rerun does only the stores not done yet. What the law or a hold keeps is
listed in the answer with the reason and the date it goes. Every step is in the evidence
log, by ref: never the subject's data.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import ngettext

from gallra.evidence import log
from gallra.evidence.models import Entry
from gallra.policy.loading import current_policy
from gallra.policy.model import Policy
from gallra.policy.sentences import said
from gallra.subjects import datasets, registry_store
from gallra.subjects.cases import CaseError, close, identity_of, note
from gallra.subjects.kept import why_kept
from gallra.subjects.models import StoreStep, SubjectRequest


def erase_request(
    policy: Policy, request: SubjectRequest, *, now: datetime, at: date, actor: str
) -> SubjectRequest:
    if request.kind != SubjectRequest.Kind.ERASURE:
        raise CaseError(
            said(
                "%(ref)s is a %(kind)s request, not an erasure request",
                ref=request.ref,
                kind=request.kind,
            )
        )
    if not request.is_verified:
        raise CaseError(said("%(ref)s: the subject's identity is not verified", ref=request.ref))
    identity = identity_of(request)
    done = set(request.steps.filter(status=StoreStep.Status.DONE).values_list("store", flat=True))
    if registry_store.STORE not in done:
        with transaction.atomic():
            result = registry_store.erase(
                policy, identity, at=at, now=now, actor=actor, request_ref=request.ref
            )
            _step(
                request,
                registry_store.STORE,
                now,
                {
                    "deleted": {t: len(refs) for t, refs in result.deleted.items()},
                    "kept": [
                        {
                            "table": k.table,
                            "key": k.key,
                            "reason": k.reason,
                            "until": k.until.isoformat() if k.until else None,
                            "detail": k.detail,
                        }
                        for k in result.kept
                    ],
                },
            )
    for dataset in policy.dataset:
        if dataset.id in done:
            continue
        try:
            with datasets.engine(dataset).begin() as conn:
                plans = datasets.erase(conn, dataset, identity)
        except datasets.ERRORS as exc:
            with transaction.atomic():
                _step(request, dataset.id, now, {}, failed=datasets.failure(dataset, exc))
                note("subject.erase_failed", request, actor=actor, at=now, store=dataset.id)
            continue
        rules = {r.id: r for r in policy.rule}
        tables = {t.name: t for t in dataset.table}
        with transaction.atomic():
            refs = [
                f"{dataset.id}:{p.table}:{k}"
                for p in plans
                for k in (*p.deleted, *p.overwritten, *p.unlinked)
            ]
            counts = {
                action: {p.table: len(getattr(p, action)) for p in plans if getattr(p, action)}
                for action in ("deleted", "overwritten", "unlinked")
            }
            if refs:
                data = {"request": request.ref, "store": dataset.id, **counts}
                unlinked = [f"{dataset.id}:{p.table}:{k}" for p in plans for k in p.unlinked]
                if unlinked:  # a replay unlinks these again, and erases the rest as declared
                    data["unlinked"] = unlinked
                log.append("subject.erase", actor=actor, at=now, refs=refs, data=data)
            _step(
                request,
                dataset.id,
                now,
                {
                    "deleted": {p.table: len(p.deleted) for p in plans if p.deleted},
                    "overwritten": {p.table: len(p.overwritten) for p in plans if p.overwritten},
                    "kept": [
                        _kept_row(rules, tables[p.table], k, counted)
                        for p in plans
                        for k, counted in p.kept
                    ],
                },
            )
    steps = {s.store: s for s in request.steps.all()}
    stores = [registry_store.STORE, *(d.id for d in policy.dataset)]
    with transaction.atomic():
        if all(steps.get(s) and steps[s].status == StoreStep.Status.DONE for s in stores):
            close(request, answer(request, policy), now=now, actor=actor)
        else:
            request.status = SubjectRequest.Status.IN_PROGRESS
            request.note = "\n".join(s.detail for s in steps.values() if s.status == "failed")
            request.save()
    return request


def _kept_row(rules, table, key, counted) -> dict:
    rule = rules[table.kept_by]
    until = datasets.kept_until(rule, counted)
    return {
        "table": table.name,
        "key": str(key),
        "reason": "law",
        "until": until.isoformat() if until else None,
        "detail": rule.legal_source,
    }


def _step(request, store: str, now: datetime, result: dict, failed: str = "") -> None:
    StoreStep.objects.update_or_create(
        request=request,
        store=store,
        defaults={
            "status": StoreStep.Status.FAILED if failed else StoreStep.Status.DONE,
            "detail": failed,
            "at": now,
            "result": result,
        },
    )


def answer(request: SubjectRequest, policy: Policy) -> dict:
    """What was erased and what is kept, per store: the answer to the subject."""
    out = {"deleted": {}, "overwritten": {}, "kept": []}
    for step in request.steps.order_by("id"):
        for key in ("deleted", "overwritten"):
            if step.result.get(key):
                out[key][step.store] = step.result[key]
        out["kept"] += [{**k, "store": step.store} for k in step.result.get("kept", [])]
    return out


def certificate_html(request: SubjectRequest, policy: Policy, lang: str) -> str:
    """The erasure certificate for the subject: the request ref and a masked address, counts,
    what is kept and why, and the evidence entries; no other personal data."""
    if request.status != SubjectRequest.Status.DONE or request.kind != "erasure":
        raise CaseError(said("%(ref)s is not a completed erasure request", ref=request.ref))
    with translation.override(lang):
        return _certificate_html(request, policy, lang)


def _erased(key: str, n: int) -> str:
    """ "3 poster", "1 avidentifierad": how many rows of a table went, and how."""
    if key == "deleted":
        return ngettext("%(n)d record", "%(n)d records", n) % {"n": n}
    return ngettext("%(n)d de-identified", "%(n)d de-identified", n) % {"n": n}


def _certificate_html(request: SubjectRequest, policy: Policy, lang: str) -> str:
    org = policy.organisation.brand or policy.organisation.name
    names = {"gallra": org} | {d.id: policy.text(d.name, lang) for d in policy.dataset}
    result = request.answer
    erased = []
    for key in ("deleted", "overwritten"):
        for store, tables in result.get(key, {}).items():
            for table, n in tables.items():
                erased.append(
                    {
                        "store": names.get(store, store),
                        "table": table,
                        "amount": _erased(key, n),
                    }
                )
    kept = [
        {
            "store": names.get(k["store"], k["store"]),
            "table": k["table"],
            "key": k["key"],
            "why": why_kept(k["reason"], k["until"], k.get("detail", "")),
        }
        for k in result.get("kept", [])
    ]
    seqs = list(Entry.objects.filter(data__request=request.ref).values_list("seq", flat=True))
    identity = identity_of(request)
    return render_to_string(
        "subjects/certificate.html",
        {
            "lang": lang,
            "org": org,
            "ref": request.ref,
            "email": identity.masked_email(),
            "received": str(request.received),  # as written everywhere: 2026-05-04
            "closed": request.closed_at,
            "erased": erased,
            "kept": kept,
            "seqs": ", ".join(str(s) for s in sorted(set(seqs))),
        },
    )


def erasure_job(request_id: int, actor: str) -> None:
    """The job the admin's Erase button starts. Run again (a worker died, staff pressed the
    button again), it resumes: stores already done are skipped, a closed request is left."""
    request = SubjectRequest.objects.get(pk=request_id)
    if not request.is_open:
        return
    erase_request(
        current_policy(), request, now=timezone.now(), at=timezone.localdate(), actor=actor
    )
