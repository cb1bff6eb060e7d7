"""Web applications post their login events here (token auth, JSON). See docs/logins.md.

`receive()` checks and stores a post's events; the HTTP API's `POST /api/v1/logins/events`
calls it too, so both accept exactly the same events."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gallra import strictjson
from gallra.logins import detection, sshd, tokens
from gallra.logins.ingest import FUTURE, EventWriter, Report
from gallra.logins.models import FAILURE, SUCCESS, WEB_METHODS, WEB_SERVICES, WebEventSeen
from gallra.logins.sealing import BadAddress, NoEscrow
from gallra.policy.loading import current_policy

MAX_EVENTS = 1000
MAX_BODY = 1_000_000
MAX_DEPTH = 8  # {"events": [{...}]} is three levels deep
_FIELDS = {"id", "at", "outcome", "username", "ip", "service", "method"}
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def load_body(body: bytes) -> object:
    """A post's JSON, read strictly (depth, numbers, NaN, NUL, surrogates, duplicate keys):
    strictjson.JSONError names the place. The API's parser reads its bodies with this too."""
    return strictjson.loads(body, max_depth=MAX_DEPTH, max_bytes=MAX_BODY)


def event_digest(event_id: str) -> str:
    """What is kept of a sender's event id, to know a retry: a keyed hash, since an id is the
    sender's free text and may hold an address (an unkeyed hash of an IPv4 address is
    reversed by trying all 2^32)."""
    data = b"web-login-event-id\0" + event_id.encode()
    return hmac.new(settings.GALLRA_KEYS.pseudonym_key, data, hashlib.sha256).hexdigest()


class Invalid(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _text(event: dict, name: str, where: str, limit: int, default: str | None = None) -> str:
    value = event.get(name, default)
    if value is None:
        raise Invalid(f"{where}.{name}", "is required")
    # Control characters (NUL above all) have no place in these fields, nor in PostgreSQL.
    if not isinstance(value, str) or len(value) > limit or not value.isprintable():
        raise Invalid(
            f"{where}.{name}", f"must be a string of at most {limit} printable characters"
        )
    return value


def _name(key: str) -> str:
    """A field name as shown in an error: an unknown one is the sender's text, cut short."""
    return key if _KEY.fullmatch(key) else json.dumps(key[:40])


def _choice(event: dict, name: str, where: str, allowed: tuple[str, ...], default: str) -> str:
    value = event.get(name, default)
    if value not in allowed:
        raise Invalid(f"{where}.{name}", "must be one of " + ", ".join(allowed))
    return value


def _event(event: object, where: str, writer: EventWriter) -> tuple[str, sshd.Attempt, str]:
    if not isinstance(event, dict):
        raise Invalid(where, "must be an object")
    unknown = sorted(set(event) - _FIELDS)
    if unknown:
        raise Invalid(f"{where}.{_name(unknown[0])}", "is not a known field")
    event_id = _text(event, "id", where, 200)
    if not event_id:
        raise Invalid(f"{where}.id", "must not be empty")
    text = _text(event, "at", where, 40)
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
        at = at.astimezone(UTC) if at.tzinfo is not None else at
    except (ValueError, OverflowError):  # OverflowError: year 1 with an offset east of UTC
        raise Invalid(
            f"{where}.at", "must be an RFC 3339 time, e.g. 2026-11-25T03:14:15Z"
        ) from None
    if at.tzinfo is None:
        raise Invalid(f"{where}.at", "needs its offset (Z or +01:00)")
    if at > writer.now + FUTURE:
        raise Invalid(f"{where}.at", "is in the future")
    outcome = _text(event, "outcome", where, 10)
    if outcome not in (SUCCESS, FAILURE):
        raise Invalid(f"{where}.outcome", 'must be "success" or "failure"')
    service = _choice(event, "service", where, WEB_SERVICES, "web")
    address = _text(event, "ip", where, 45)
    try:
        writer.network.of(address)
    except BadAddress:
        raise Invalid(f"{where}.ip", "is not an IPv4 or IPv6 address") from None
    attempt = sshd.Attempt(
        at=at,
        outcome=outcome,
        method=_choice(event, "method", where, WEB_METHODS, "password"),
        username=_text(event, "username", where, 150, ""),
        address=address,
        host="",
    )
    return event_id, attempt, service


class Busy(Exception):
    """Another request is storing the same events at this moment."""


def receive(
    items: object, seen: models.QuerySet, mark: Callable[[str, datetime], models.Model]
) -> dict:
    """Check, anonymise and store one post's events, each event id once per sender.

    `seen` holds the sender's marks of the events already stored; `mark(digest, at)` makes
    the mark of a new one. All or nothing: raises Invalid (naming the field), NoEscrow, or
    Busy. Returns {"stored": n, "duplicates": n, "skipped": {category: n}}.
    """
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_EVENTS:
        raise Invalid("events", f"must be a list of 1 to {MAX_EVENTS} events")
    policy = current_policy()
    writer = EventWriter(policy)
    parsed = [_event(item, f"events[{i}]", writer) for i, item in enumerate(items)]

    digests = {event_digest(event_id): (a, s) for event_id, a, s in parsed}
    already = set(seen.filter(digest__in=list(digests)).values_list("digest", flat=True))
    report = Report()
    rows, marks = [], []
    for digest, (attempt, service) in digests.items():
        if digest in already:
            continue
        row = writer.row(attempt, service)
        if isinstance(row, str):
            report.skipped[row] += 1
            continue
        rows.append(row)
        marks.append(mark(digest, row[0]))
    try:
        with transaction.atomic():
            writer.write(rows)
            seen.model.objects.bulk_create(marks)
    except IntegrityError:  # the same events posted twice at once: the other post stored them
        raise Busy("these events are being stored by another request; send again") from None
    report.stored(rows)
    if report.first_at is not None:
        detection.detect(policy, report.first_at, report.last_at)
        detection.notify(policy)  # queued: the outbox mails it after the answer
    return {
        "stored": report.events,
        "duplicates": len(parsed) - len(digests) + len(already),
        "skipped": dict(report.skipped),
    }


def _error(status: int, message: str, field: str = "") -> JsonResponse:
    body = {"error": message} | ({"field": field} if field else {})
    return JsonResponse(body, status=status)


@csrf_exempt  # not a browser form: a bearer token authenticates every request
@require_POST
def events(request):
    token = tokens.authenticate(request.headers.get("Authorization", ""))
    if token is None:
        return _error(401, "a valid token is required: Authorization: Bearer <token>")
    length = request.META.get("CONTENT_LENGTH") or ""
    if (length.isdigit() and int(length) > MAX_BODY) or len(request.body) > MAX_BODY:
        return _error(413, f"at most {MAX_BODY} bytes per request")
    try:
        payload = load_body(request.body)
    except strictjson.JSONError as exc:
        return _error(400, f"the body is not the JSON expected: {exc}", exc.where)
    if not isinstance(payload, dict):
        return _error(400, 'the body must be a JSON object: {"events": [...]}')
    unknown = sorted(set(payload) - {"events"})
    if "events" in payload and unknown:
        return _error(400, f"{_name(unknown[0])} is not a known field", _name(unknown[0]))
    try:
        answer = receive(
            payload.get("events"),
            WebEventSeen.objects.filter(token=token),
            lambda digest, at: WebEventSeen(token=token, digest=digest, at=at),
        )
    except Invalid as exc:
        return _error(400, f"{exc.field} {exc}", exc.field)
    except NoEscrow as exc:
        return _error(503, str(exc))
    except Busy as exc:
        return _error(409, str(exc))
    return JsonResponse(answer)
