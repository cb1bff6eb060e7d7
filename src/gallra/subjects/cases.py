"""A request's life: registered, identity verified (a one-time link or a staff member's
record), answered by its deadline (or a deadline extended in time), closed with proof."""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse

from gallra.evidence import log
from gallra.policy.model import Policy
from gallra.subjects import datasets, registry_store
from gallra.subjects.identity import Identity
from gallra.subjects.models import SubjectRequest, VerificationLink, months_after

LINK_LIFETIME = timedelta(days=7)


class CaseError(Exception):
    """A request that cannot go on as asked; the message says why and what to do."""


class SubjectUnknown(CaseError):
    pass


class LinkInvalid(CaseError):
    pass


def note(action: str, request: SubjectRequest, *, actor: str, at: datetime, **data) -> None:
    """An evidence entry about a request, named by its ref: never by the subject's data."""
    log.append(action, actor=actor, at=at, refs=[request.ref],
               data={"request": request.ref, **data})  # fmt: skip


def identity_of(request: SubjectRequest) -> Identity:
    return Identity(request.email, request.name, request.username, request.personnummer)


def open_request(
    kind: str,
    identity: Identity,
    *,
    received: date,
    now: datetime,
    actor: str,
    change_field: str = "",
    change_value: str = "",
    category: str = "",
    note_text: str = "",
    complete: bool = True,
) -> SubjectRequest:
    """Register a request. `complete=False` (the public privacy centre) lets a rectification
    or objection come in without its field or category; staff add them before answering."""
    if kind not in SubjectRequest.Kind.values:
        raise CaseError(f"type {kind!r}: must be one of {', '.join(SubjectRequest.Kind.values)}")
    if kind == "rectification" and (complete or change_field):
        check_change(change_field, change_value)
    if kind == "objection" and complete and not category:
        raise CaseError("an objection names the --category it objects to")
    with transaction.atomic():
        request = SubjectRequest.objects.create(
            ref=_next_ref(received),
            kind=kind,
            email=identity.email,
            name=identity.name,
            username=identity.username,
            personnummer=identity.personnummer,
            received=received,
            due=months_after(received, 1),
            change_field=change_field,
            change_value=change_value,
            category=category,
            note=note_text,
        )
        note(
            "subject.request", request, actor=actor, at=now, type=kind, due=request.due.isoformat()
        )
    return request


def check_change(field: str, value: str) -> None:
    if field not in ("email", "name", "username") or not value:
        raise CaseError("a rectification names --field (email, name or username) and --value")
    if field == "email":
        Identity.of(value)  # a new e-mail must be one


def _next_ref(received: date) -> str:
    prefix = f"DSR-{received.year}-"
    last = (
        SubjectRequest.objects.filter(ref__startswith=prefix)
        .order_by("-ref")
        .values_list("ref", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def open_by_deadline():
    """Open requests first, earliest deadline first: overdue ones lead."""
    rank = Case(
        When(status__in=SubjectRequest.OPEN, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return SubjectRequest.objects.annotate(closed_rank=rank).order_by("closed_rank", "due", "ref")


def extend(
    request: SubjectRequest, months: int, reason: str, told_on: date, *, now: datetime, actor: str
) -> None:
    """Art. 12(3): up to two more months, if the subject is told why within the first month."""
    if not 1 <= months <= 2:
        raise CaseError("the deadline can be extended by 1 or 2 months")
    if not reason.strip():
        raise CaseError("an extension needs the reason the subject was given")
    if told_on > request.first_due():
        raise CaseError(
            f"the subject was told on {told_on}, after the first month ended "
            f"({request.first_due()}): the extension does not count"
        )
    if told_on < request.received:
        raise CaseError(f"told on {told_on}, before the request was received ({request.received})")
    request.extension_months, request.extension_reason = months, reason.strip()
    request.extension_told_on = told_on
    request.due = months_after(request.received, 1 + months)
    with transaction.atomic():
        request.save()
        note(
            "subject.extend",
            request,
            actor=actor,
            at=now,
            months=months,
            due=request.due.isoformat(),
        )


def on_record(policy: Policy, identity: Identity) -> bool:
    """Whether gallra or a dataset holds this e-mail: only such an address gets a link."""
    found = registry_store.records(Identity(identity.email))
    if any(found.values()):
        return True
    email_only = Identity(identity.email)
    for dataset in policy.dataset:
        with datasets.engine(dataset).connect() as conn:
            for f in datasets.find(conn, dataset, email_only):
                if f.keys(datasets.OWN):
                    return True
    return False


def send_link(
    policy: Policy, request: SubjectRequest, *, now: datetime, actor: str, lang: str = "sv"
) -> VerificationLink:
    """Mail a one-time link to the address on record; only the token's hash is kept."""
    if not request.is_open:
        raise CaseError(f"{request.ref} is closed ({request.get_status_display()})")
    if not on_record(policy, identity_of(request)):
        raise SubjectUnknown(
            f"{request.email} is on record nowhere (gallra and every dataset were searched): "
            "no link is sent. Answer that no personal data is held, or verify by other means."
        )
    token = secrets.token_urlsafe(32)
    link = VerificationLink.objects.create(
        request=request,
        token_hash=VerificationLink.hash(token),
        sent_to=request.email,
        created=now,
        expires=now + LINK_LIFETIME,
    )
    url = settings.GALLRA_BASE_URL.rstrip("/") + reverse("subjects:verify", args=[token])
    org = policy.organisation.brand or policy.organisation.name
    if lang == "sv":
        subject = f"Bekräfta din begäran {request.ref} hos {org}"
        body = (
            f"Hej!\n\nVi har tagit emot en begäran om dina personuppgifter ({request.ref}). "
            f"Bekräfta att det var du genom att öppna länken nedan. Länken gäller i 7 dagar "
            f"och kan bara användas en gång.\n\n{url}\n\nVar det inte du? Då kan du "
            f"bortse från det här meddelandet.\n\n{org}\n"
        )
    else:
        subject = f"Confirm your request {request.ref} to {org}"
        body = (
            f"Hello,\n\nWe received a request about your personal data ({request.ref}). "
            f"Confirm that it was you by opening the link below. It works for 7 days "
            f"and only once.\n\n{url}\n\nIf it was not you, ignore this message.\n\n{org}\n"
        )
    send_mail(subject, body, None, [request.email])
    note("subject.link_sent", request, actor=actor, at=now)
    return link


def use_link(token: str, *, now: datetime) -> SubjectRequest:
    """Verify the request the link belongs to; LinkInvalid when unknown, used or expired."""
    with transaction.atomic():
        link = (
            VerificationLink.objects.select_for_update()
            .select_related("request")
            .filter(token_hash=VerificationLink.hash(token))
            .first()
        )
        if link is None:
            raise LinkInvalid("unknown")
        if link.used is not None:
            raise LinkInvalid("used")
        if now >= link.expires:
            raise LinkInvalid("expired")
        link.used = now
        link.save(update_fields=["used"])
        _verified(link.request, now, "link", f"one-time link sent to {link.sent_to}", "subject")
    return link.request


def verify_by_staff(request: SubjectRequest, how: str, by: str, *, now: datetime) -> None:
    if not how.strip():
        raise CaseError(
            "say how the identity was verified (e.g. 'called back on the number on record')"
        )
    if not by.strip():
        raise CaseError("say which staff member verified the identity")
    with transaction.atomic():
        _verified(request, now, "staff", how.strip(), by.strip())


def _verified(request: SubjectRequest, now: datetime, method: str, how: str, by: str) -> None:
    if not request.is_open:
        raise CaseError(f"{request.ref} is closed ({request.get_status_display()})")
    request.verified_at, request.verified_how, request.verified_by = now, how, by
    if request.status == SubjectRequest.Status.RECEIVED:
        request.status = SubjectRequest.Status.VERIFIED
    request.save()
    note("subject.verified", request, actor=by, at=now, method=method)


def request_for(email: str, kinds: tuple[str, ...], ref: str | None = None) -> SubjectRequest:
    """The open, verified request of one of `kinds` for `email` (the oldest), or CaseError."""
    identity = Identity.of(email)
    requests = SubjectRequest.objects.filter(kind__in=kinds, status__in=SubjectRequest.OPEN)
    if ref:
        requests = requests.filter(ref=ref)
    requests = [
        r for r in requests.order_by("received", "ref") if r.email.lower() == identity.email.lower()
    ]
    what = " or ".join(kinds)
    if not requests:
        raise CaseError(
            f"no open {what} request for {identity.email}"
            + (f" with ref {ref}" if ref else "")
            + ": register one first (gallra subject request --type ... --email ...)"
        )
    verified = [r for r in requests if r.is_verified]
    if not verified:
        r = requests[0]
        raise CaseError(
            f"{r.ref}: the subject's identity is not verified yet, so nothing is released "
            f"or erased. Send a link (gallra subject send-link {r.ref}) or record how staff "
            f"verified it (gallra subject verify {r.ref} --how ... --by ...)"
        )
    return verified[0]


def close(request: SubjectRequest, answer: dict, *, now: datetime, actor: str) -> None:
    request.status = SubjectRequest.Status.DONE
    request.closed_at = now
    request.answer = answer
    request.save()
    note("subject.done", request, actor=actor, at=now, type=request.kind)
