"""The HTTP API, version 1 (/api/v1/): what staff tools and the provider's own systems read
and post, with an exact OpenAPI schema (/api/v1/openapi.json). See docs/api.md.

A bearer token acts for one staff user and can do what that user's Django permissions allow,
nothing more: each operation names the permission it needs. Answers hold refs, counts and
the anonymised forms gallra keeps, never a raw address or sealed data; a data subject's own
data only for a user who may see personal data.
"""

from __future__ import annotations

from itertools import chain

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import NinjaAPI, Path, Query, Status
from ninja.errors import AuthenticationError, AuthorizationError, HttpError
from ninja.parser import Parser
from ninja.security import HttpBearer

from gallra import strictjson
from gallra.api import schemas as s
from gallra.api.models import ApiEventSeen, ApiToken
from gallra.consent.models import ConsentDecision
from gallra.evidence import log
from gallra.evidence.models import Entry
from gallra.logins import views as web_logins
from gallra.logins.sealing import NoEscrow
from gallra.mailboxes.decisions import plan_mail
from gallra.policy.loading import current_policy
from gallra.retention.planner import plan
from gallra.subjects.cases import open_by_deadline
from gallra.subjects.models import StoreStep, SubjectRequest

VIEW_PERSONAL = "registry.view_personal_data"
READ = {401: s.Error, 403: s.Error, 422: s.ValidationErrors}
ONE = {**READ, 404: s.Error}


class Token(HttpBearer):
    """`Authorization: Bearer <token>`; the token's user must hold `permission`."""

    def __init__(self, permission: str) -> None:
        self.permission = permission
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = ApiToken.authenticate(token, timezone.now())
        if found is not None and not found.user.has_perm(self.permission):
            raise AuthorizationError(
                message=f"the token's user lacks the permission {self.permission}"
            )
        return found


class StrictParser(Parser):
    """Request bodies read as strictly as the ingest endpoint's (logins.views.load_body):
    deep nesting, huge or non-finite numbers, NUL, lone surrogates and duplicate keys are
    refused with the place, before any schema sees them."""

    def parse_body(self, request: HttpRequest):
        return web_logins.load_body(request.body)


api = NinjaAPI(
    parser=StrictParser(),
    title="gallra",
    version="1",
    description="Consent decisions, web-login events, data-subject requests, the retention "
    "plan and the evidence log. Authenticate with `Authorization: Bearer <token>` "
    "(`gallra api token create`).",
    urls_namespace="api-v1",
)


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError):
    response = api.create_response(
        request, {"detail": "a valid token is required: Authorization: Bearer <token>"}, status=401
    )
    response["WWW-Authenticate"] = 'Bearer realm="gallra"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    """ninja turns a parser's error into "Cannot parse request body"; say where instead."""
    cause = exc.__cause__
    if isinstance(cause, strictjson.JSONError):
        body = {"detail": f"the body is not the JSON expected: {cause}", "field": cause.where}
        return api.create_response(request, body, status=400)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


def _page(rows: QuerySet, paging: s.Paging) -> dict:
    return {
        "count": rows.count(),
        "limit": paging.limit,
        "offset": paging.offset,
        "items": list(rows[paging.offset : paging.offset + paging.limit]),
    }


# -- consent ------------------------------------------------------------------------------


@api.get(
    "/consent/decisions",
    response={200: s.DecisionPage, **READ},
    tags=["consent"],
    auth=Token("consent.view_consentdecision"),
)
def consent_decisions(
    request: HttpRequest, paging: Query[s.Paging], only: Query[s.DecisionFilter]
) -> dict:
    """Cookie-consent decisions as stored for proof, newest first."""
    rows = ConsentDecision.objects.order_by("-at", "-pk")
    if only.consent_id:
        rows = rows.filter(consent_id=only.consent_id)
    return _page(rows, paging)


@api.get(
    "/consent/decisions/{decision_id}",
    response={200: s.Decision, **ONE},
    tags=["consent"],
    auth=Token("consent.view_consentdecision"),
)
def consent_decision(
    request: HttpRequest, decision_id: int = Path(..., ge=1, le=2**63 - 1)
) -> ConsentDecision:
    """One consent decision."""
    return get_object_or_404(ConsentDecision, pk=decision_id)


# -- web logins ---------------------------------------------------------------------------


@api.post(
    "/logins/events",
    response={200: s.Received, 400: s.Error, 409: s.Error, 503: s.Error, **READ},
    tags=["logins"],
    auth=Token("logins.add_loginevent"),
)
def login_events(request: HttpRequest, body: s.LoginEventsIn):
    """Store a web application's login events: anonymised, each id once per token.

    The same events as `POST /logins/events` with an ingest token (docs/logins.md).
    """
    token = request.auth
    try:
        answer = web_logins.receive(
            [event.model_dump(exclude_unset=True) for event in body.events],
            ApiEventSeen.objects.filter(token=token),
            lambda digest, at: ApiEventSeen(token=token, digest=digest, at=at),
        )
    except web_logins.Invalid as exc:
        return Status(400, {"detail": f"{exc.field} {exc}", "field": exc.field})
    except NoEscrow as exc:
        return Status(503, {"detail": str(exc)})
    except web_logins.Busy as exc:
        return Status(409, {"detail": str(exc)})
    return answer  # the marks go under their own rule (own_data duplicate_marks, store.py)


# -- data-subject requests ----------------------------------------------------------------


def _request(request: SubjectRequest, personal: bool, today) -> dict:
    out = {
        "ref": request.ref,
        "kind": request.kind,
        "status": request.status,
        "received": request.received,
        "due": request.due,
        "overdue": request.is_overdue(today),
        "extension_months": request.extension_months,
        "extension_told_on": request.extension_told_on,
        "verified_at": request.verified_at,
        "closed_at": request.closed_at,
        "change_field": request.change_field,
        "category": request.category,
        "stores": [{"store": p.store, "status": p.status, "at": p.at} for p in request.steps.all()],
        "personal": None,
    }
    if personal:
        out["personal"] = {name: getattr(request, name) for name in s.Personal.model_fields}
    return out


def _requests() -> QuerySet:
    return open_by_deadline().prefetch_related(
        Prefetch("steps", queryset=StoreStep.objects.order_by("store"))
    )


@api.get(
    "/requests",
    response={200: s.RequestPage, **READ},
    tags=["requests"],
    auth=Token("subjects.view_subjectrequest"),
)
def requests(request: HttpRequest, paging: Query[s.Paging], only: Query[s.RequestFilter]) -> dict:
    """Data-subject requests as a work list: open ones first, earliest deadline (overdue)
    first. The subject's own data only with `registry.view_personal_data`."""
    rows = _requests()
    if only.status:
        rows = rows.filter(status__in=only.status)
    page = _page(rows, paging)
    personal, today = request.auth.user.has_perm(VIEW_PERSONAL), timezone.localdate()
    page["items"] = [_request(r, personal, today) for r in page["items"]]
    return page


@api.get(
    "/requests/{ref}",
    response={200: s.Request, **ONE},
    tags=["requests"],
    auth=Token("subjects.view_subjectrequest"),
)
def subject_request(
    request: HttpRequest, ref: str = Path(..., pattern=r"^[A-Za-z0-9-]{1,30}$")
) -> dict:
    """One data-subject request by its reference (DSR-2026-0001)."""
    found = get_object_or_404(_requests(), ref=ref)
    personal = request.auth.user.has_perm(VIEW_PERSONAL)
    return _request(found, personal, timezone.localdate())


# -- the retention plan -------------------------------------------------------------------


@api.get(
    "/plan",
    response={200: s.PlanPage, **READ},
    tags=["retention"],
    auth=Token("retention.view_duerecord"),
)
def retention_plan(request: HttpRequest, paging: Query[s.Paging], query: Query[s.PlanQuery]):
    """What enforcement would delete on a day (default today), as `gallra plan` shows it:
    each record's type, ref, the rule and the day it became due."""
    at = query.at or timezone.localdate()
    policy = current_policy()
    decisions = chain(plan(policy, at, query.type), plan_mail(policy, at, query.type))
    count, items = 0, []
    for decision in decisions:  # planned in full: the count needs every record anyway
        if decision.action != "delete":
            continue
        if paging.offset <= count < paging.offset + paging.limit:
            items.append(decision)
        count += 1
    return {
        "at": at,
        "count": count,
        "limit": paging.limit,
        "offset": paging.offset,
        "items": [
            {"type": d.record_type, "ref": d.ref, "rule": d.rule, "due": d.due} for d in items
        ],
    }


# -- evidence -----------------------------------------------------------------------------


@api.get(
    "/evidence",
    response={200: s.EntryPage, **READ},
    tags=["evidence"],
    auth=Token("evidence.view_entry"),
)
def evidence(request: HttpRequest, paging: Query[s.Paging]) -> dict:
    """The evidence log, newest entry first, with both hashes of each entry."""
    page = _page(Entry.objects.order_by("-seq"), paging)
    page["items"] = [log.entry_as_dict(e) | {"customers": e.customer_refs} for e in page["items"]]
    return page


@api.get(
    "/evidence/verify",
    response={200: s.Verified, 401: s.Error, 403: s.Error},
    tags=["evidence"],
    auth=Token("evidence.view_entry"),
)
def evidence_verify(request: HttpRequest) -> dict:
    """Check the whole hash chain, as `gallra evidence verify` does."""
    return log.verify().as_dict()
