"""A request's life: registered, identity verified (a one-time link or a staff member's
record), answered by its deadline (or a deadline extended in time), closed with proof."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Value, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from gallra.evidence import log
from gallra.outbox import mail as outbox
from gallra.outbox.mail import Message
from gallra.policy.loading import current_policy
from gallra.policy.model import Policy
from gallra.policy.sentences import either, said, said_n, translated
from gallra.subjects import datasets, registry_store
from gallra.subjects.identity import Identity
from gallra.subjects.models import SubjectRequest, VerificationLink, deadline

LINK_LIFETIME = timedelta(days=7)


class CaseError(Exception):
    """A request that cannot go on as asked; the message says why and what to do.

    str() is its English (tests, logs); `translated()` says it in the active language, for
    the page, the admin or the terminal that shows it."""

    def translated(self) -> str:
        return str(translated(self.args[0])) if self.args else ""


class SubjectUnknown(CaseError):
    pass


class LinkInvalid(CaseError):
    pass


def note(action: str, request: SubjectRequest, *, actor: str, at: datetime, **data) -> None:
    """An evidence entry about a request, named by its ref: never by the subject's data."""
    log.append(
        action, actor=actor, at=at, refs=[request.ref], data={"request": request.ref, **data}
    )


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
        kinds = ", ".join(SubjectRequest.Kind.values)
        raise CaseError(said("type %(kind)r: must be one of %(kinds)s", kind=kind, kinds=kinds))
    if kind == "rectification" and (complete or change_field):
        check_change(change_field, change_value)
    if kind == "objection" and complete and not category:
        raise CaseError(said("an objection names the --category it objects to"))
    try:
        deadline(received, 2)  # the latest the deadline can become must be a date
    except (ValueError, OverflowError):
        past = said("received %(day)s: its deadline is past the calendar", day=received)
        raise CaseError(past) from None
    with transaction.atomic():
        request = _create_with_new_ref(
            kind=kind,
            email=identity.email,
            name=identity.name,
            username=identity.username,
            personnummer=identity.personnummer,
            received=received,
            due=deadline(received),
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
        raise CaseError(said("a rectification names --field (email, name or username) and --value"))
    if field == "email":
        Identity.of(value)  # a new e-mail must be one


# A ref is said over the phone and printed on letters, and must not tell how many requests
# came before it: DSR-YEAR- and 8 random characters of Crockford's base32 (no I, L, O, U),
# 40 bits. Refs of the old form (DSR-2026-0025) stay what they are.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_TRIES = 5
_RANDOM_REF = re.compile(r"^(DSR-\d{4}-)([0-9A-Z]{8})$")


def new_ref(received: date) -> str:
    return f"DSR-{received.year}-" + "".join(secrets.choice(CROCKFORD) for _ in range(8))


def normal_ref(text: str) -> str:
    """A ref as typed or read out (lower case, spaces, O for 0, I or L for 1) as stored."""
    ref = text.strip().upper()
    found = _RANDOM_REF.match(ref)
    if found:
        ref = found.group(1) + found.group(2).translate(str.maketrans("OIL", "011"))
    return ref


def _create_with_new_ref(**fields) -> SubjectRequest:
    """Insert with a fresh random ref; on the rare collision (the ref is unique), another."""
    for _ in range(REF_TRIES):
        try:
            with transaction.atomic():
                return SubjectRequest.objects.create(ref=new_ref(fields["received"]), **fields)
        except IntegrityError:
            continue
    raise CaseError(
        said_n(
            "no free reference found in %(n)s try; try again",
            "no free reference found in %(n)s tries; try again",
            REF_TRIES,
        )
    )


def open_by_deadline():
    """Open requests first, earliest deadline first: overdue ones lead."""
    rank = Case(
        When(status__in=SubjectRequest.OPEN, then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return SubjectRequest.objects.annotate(closed_rank=rank).order_by(
        "closed_rank", "due", "received", "pk"
    )  # refs are random: ties go by date of receipt


def extend(
    request: SubjectRequest, months: int, reason: str, told_on: date, *, now: datetime, actor: str
) -> None:
    """Art. 12(3): up to two more months, if the subject is told why within the first month."""
    if not 1 <= months <= 2:
        raise CaseError(said("the deadline can be extended by 1 or 2 months"))
    if not reason.strip():
        raise CaseError(said("an extension needs the reason the subject was given"))
    if told_on > request.first_due():
        raise CaseError(
            said(
                "the subject was told on %(told)s, after the first month ended (%(end)s): the "
                "extension does not count",
                told=told_on,
                end=request.first_due(),
            )
        )
    if told_on < request.received:
        raise CaseError(
            said(
                "told on %(told)s, before the request was received (%(received)s)",
                told=told_on,
                received=request.received,
            )
        )
    if told_on > timezone.localdate(now):
        raise CaseError(
            said(
                "told on %(told)s, which has not come yet: record the extension once the "
                "subject has been told",
                told=told_on,
            )
        )
    request.extension_months, request.extension_reason = months, reason.strip()
    request.extension_told_on = told_on
    request.due = deadline(request.received, months)
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


LINK_MAIL = "subject_link"  # the outbox's kind for the mail with a one-time link


def _link_mail(
    policy: Policy, request: SubjectRequest, *, now: datetime, lang: str
) -> tuple[VerificationLink, Message]:
    """A new one-time link for the address on record, and the mail that carries it; only the
    token's hash is kept."""
    if not request.is_open:
        raise CaseError(_closed(request))
    if not on_record(policy, identity_of(request)):
        raise SubjectUnknown(
            said(
                "%(email)s is on record nowhere (gallra and every dataset were searched): no "
                "link is sent. Answer that no personal data is held, or verify by other means.",
                email=request.email,
            )
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
    values = {"ref": request.ref, "org": policy.organisation.brand or policy.organisation.name}
    with translation.override(lang):
        subject = gettext("Confirm your request %(ref)s to %(org)s") % values
        body = gettext(
            "Hello,\n\nWe received a request about your personal data (%(ref)s). Confirm that "
            "it was you by opening the link below. It works for 7 days and only once.\n\n"
            "%(url)s\n\nIf it was not you, ignore this message.\n\n%(org)s\n"
        ) % {**values, "url": url}
    return link, Message(subject, body, (request.email,))


def _closed(request: SubjectRequest) -> str:
    """The request is closed: its status (a model choice) said in each language too."""
    status = SubjectRequest.Status(request.status).label
    return said("%(ref)s is closed (%(status)s)", ref=request.ref, status=status)


def send_link(
    policy: Policy, request: SubjectRequest, *, now: datetime, actor: str, lang: str = "sv"
) -> VerificationLink:
    """Staff (the admin's button, `gallra subject send-link`): a one-time link to the address
    on record, queued in the outbox, which sends it after the answer (docs/mail.md).
    SubjectUnknown when the address is on record nowhere: staff may know that."""
    with transaction.atomic():
        link, message = _link_mail(policy, request, now=now, lang=lang)
        outbox.queue(message, kind=LINK_MAIL, ref=request.ref, now=now)
        note("subject.link_queued", request, actor=actor, at=now)
    return link


def queue_link(request: SubjectRequest, *, now: datetime, actor: str, lang: str = "sv") -> None:
    """The privacy centre: a link goes out only if the address is on record, and whether it
    is, is looked up when the outbox delivers, not in the web request. So the answer is the
    same, in the same time, for an address that is known and one that is not."""
    data = {"request": request.pk, "lang": lang, "actor": actor}
    outbox.queue_later(LINK_MAIL, data, ref=request.ref, now=now)


def _compose_link(data: dict, now: datetime) -> Message | None:
    """At delivery: the link mail for an open request whose address is on record, or None."""
    request = SubjectRequest.objects.filter(pk=data["request"]).first()
    if request is None or not request.is_open:
        return None
    try:
        _link, message = _link_mail(current_policy(), request, now=now, lang=data["lang"])
    except SubjectUnknown:
        reason = "the address is on record nowhere"
        note("subject.link_not_sent", request, actor=data["actor"], at=now, reason=reason)
        return None
    return message


def _link_delivered(ref: str, now: datetime) -> None:
    log.append("subject.link_sent", actor="outbox", at=now, refs=[ref], data={"request": ref})


outbox.register(LINK_MAIL, compose=_compose_link, delivered=_link_delivered)


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
            said("say how the identity was verified (e.g. 'called back on the number on record')")
        )
    if not by.strip():
        raise CaseError(said("say which staff member verified the identity"))
    with transaction.atomic():
        _verified(request, now, "staff", how.strip(), by.strip())


def _verified(request: SubjectRequest, now: datetime, method: str, how: str, by: str) -> None:
    if not request.is_open:
        raise CaseError(_closed(request))
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
        requests = requests.filter(ref=normal_ref(ref))
    requests = [
        r for r in requests.order_by("received", "pk") if r.email.lower() == identity.email.lower()
    ]
    what = either(list(kinds))
    if not requests and ref:
        raise CaseError(
            said(
                "no open %(kinds)s request for %(email)s with ref %(ref)s: register one first "
                "(gallra subject request --type ... --email ...)",
                kinds=what,
                email=identity.email,
                ref=ref,
            )
        )
    if not requests:
        raise CaseError(
            said(
                "no open %(kinds)s request for %(email)s: register one first "
                "(gallra subject request --type ... --email ...)",
                kinds=what,
                email=identity.email,
            )
        )
    verified = [r for r in requests if r.is_verified]
    if not verified:
        r = requests[0]
        raise CaseError(
            said(
                "%(ref)s: the subject's identity is not verified yet, so nothing is released "
                "or erased. Send a link (gallra subject send-link %(ref)s) or record how staff "
                "verified it (gallra subject verify %(ref)s --how ... --by ...)",
                ref=r.ref,
            )
        )
    return verified[0]


def close(request: SubjectRequest, answer: dict, *, now: datetime, actor: str) -> None:
    request.status = SubjectRequest.Status.DONE
    request.closed_at = now
    request.answer = answer
    request.save()
    note("subject.done", request, actor=actor, at=now, type=request.kind)
