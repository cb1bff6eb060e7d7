"""Web applications post their login events here (token auth, JSON). See docs/logins.md."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gallra.logins import detection, sshd, tokens
from gallra.logins.ingest import EventWriter, Report
from gallra.logins.models import FAILURE, SUCCESS, WebEventSeen
from gallra.logins.sealing import BadAddress, NoEscrow
from gallra.policy.loading import current_policy

MAX_EVENTS = 1000
MAX_BODY = 1_000_000
_SERVICE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_FIELDS = {"id", "at", "outcome", "username", "ip", "service", "method"}


class Invalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _text(event: dict, name: str, where: str, limit: int, default: str | None = None) -> str:
    value = event.get(name, default)
    if value is None:
        raise Invalid(f"{where}.{name}", "is required")
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(f"{where}.{name}", f"must be a string of at most {limit} characters")
    return value


def _event(event: object, where: str, writer: EventWriter) -> tuple[str, sshd.Attempt, str]:
    if not isinstance(event, dict):
        raise Invalid(where, "must be an object")
    unknown = sorted(set(event) - _FIELDS)
    if unknown:
        raise Invalid(f"{where}.{unknown[0]}", "is not a known field")
    event_id = _text(event, "id", where, 200)
    if not event_id:
        raise Invalid(f"{where}.id", "must not be empty")
    try:
        at = datetime.fromisoformat(_text(event, "at", where, 40).replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(
            f"{where}.at", "must be an RFC 3339 time, e.g. 2026-11-25T03:14:15Z"
        ) from None
    if at.tzinfo is None:
        raise Invalid(f"{where}.at", "needs its offset (Z or +01:00)")
    at = at.astimezone(UTC)
    outcome = _text(event, "outcome", where, 10)
    if outcome not in (SUCCESS, FAILURE):
        raise Invalid(f"{where}.outcome", 'must be "success" or "failure"')
    service = _text(event, "service", where, 40, "web")
    if not _SERVICE.fullmatch(service):
        raise Invalid(f"{where}.service", "lower-case letters, digits, '-' and '_'")
    address = _text(event, "ip", where, 45)
    try:
        writer.network.of(address)
    except BadAddress:
        raise Invalid(f"{where}.ip", "is not an IPv4 or IPv6 address") from None
    attempt = sshd.Attempt(
        at=at, outcome=outcome, method=_text(event, "method", where, 40, "password"),
        username=_text(event, "username", where, 150, ""), address=address, host="",
    )  # fmt: skip
    return event_id, attempt, service


def _error(status: int, message: str, field: str = "") -> JsonResponse:
    body = {"error": message} | ({"field": field} if field else {})
    return JsonResponse(body, status=status)


@csrf_exempt  # not a browser form: a bearer token authenticates every request
@require_POST
def events(request):
    token = tokens.authenticate(request.headers.get("Authorization", ""))
    if token is None:
        return _error(401, "a valid token is required: Authorization: Bearer <token>")
    if len(request.body) > MAX_BODY:
        return _error(413, f"at most {MAX_BODY} bytes per request")
    try:
        payload = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _error(400, "the body is not JSON")
    items = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_EVENTS:
        return _error(400, f'expected {{"events": [...]}} with 1 to {MAX_EVENTS} events', "events")
    policy = current_policy()
    try:
        writer = EventWriter(policy)
    except NoEscrow as exc:
        return _error(503, str(exc))
    try:
        parsed = [_event(item, f"events[{i}]", writer) for i, item in enumerate(items)]
    except Invalid as exc:
        return _error(400, f"{exc.field} {exc}", exc.field)

    digests = {hashlib.sha256(event_id.encode()).hexdigest(): (a, s) for event_id, a, s in parsed}
    seen = set(
        WebEventSeen.objects.filter(token=token, digest__in=list(digests)).values_list(
            "digest", flat=True
        )
    )
    report = Report()
    rows, marks = [], []
    for digest, (attempt, service) in digests.items():
        if digest in seen:
            continue
        row = writer.row(attempt, service)
        if isinstance(row, str):
            report.skipped[row] += 1
            continue
        rows.append(row)
        marks.append(WebEventSeen(token=token, digest=digest, at=row[0]))
    try:
        with transaction.atomic():
            writer.write(rows)
            WebEventSeen.objects.bulk_create(marks)
    except IntegrityError:  # the same events posted twice at once: the other post stored them
        return _error(409, "these events are being stored by another request; send again")
    report.stored(rows)
    if report.first_at is not None:
        detection.detect(policy, report.first_at, report.last_at)
        with contextlib.suppress(OSError):  # unsent alerts are tried again with the next events
            detection.notify(policy)
    return JsonResponse({
        "stored": report.events,
        "duplicates": len(parsed) - len(digests) + len(seen),
        "skipped": dict(report.skipped),
    })  # fmt: skip
