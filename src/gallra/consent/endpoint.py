"""The decision endpoint, gallra's one hot path: every visitor of every page that shows the
banner may post here. `gallra serve` answers it with a plain WSGI function in front of
Django (see gallra.wsgi), which does only what this endpoint needs: check the host and the
origin, count the client (limits.py), read the JSON strictly (gallra.strictjson) and check
it against the policy, hand the decision to the group-commit writer. The Django view in
views.py answers the same way through the same functions (tests, other servers).
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils import timezone

from gallra import strictjson
from gallra.consent import limits
from gallra.consent.config import shown_config
from gallra.consent.models import ConsentDecision
from gallra.consent.writer import writer
from gallra.policy.loading import current_policy

PATH = "/consent/decisions"
MAX_BODY = 8192  # a decision is a few hundred bytes; the policy's categories fit many times
MAX_DEPTH = 3  # the decision, its categories or services, a choice
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def allowed_origin(origin: str | None, own: str) -> str | None:
    if origin is None:
        return None
    return origin if origin == own or origin in settings.GALLRA_CONSENT_ORIGINS else None


def cors(origin: str | None, own: str) -> list[tuple[str, str]]:
    headers = [("Vary", "Origin")]
    if allowed_origin(origin, own):
        headers += [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
            ("Access-Control-Allow-Headers", "Content-Type"),
            ("Access-Control-Max-Age", "86400"),
        ]
    return headers


def answer(
    method: str, body: bytes, origin: str | None, own: str, client: str = ""
) -> tuple[int, dict | None]:
    """(status, JSON payload) for one request to the endpoint; `client` is the address it
    came from (counted, never kept)."""
    if method == "OPTIONS":
        return 204, None
    if method != "POST":
        return 405, {"error": "POST a decision"}
    if origin and allowed_origin(origin, own) is None:
        return 403, {"error": "this origin may not record consent here"}
    if limits.clients.over(client):
        return 429, {"error": "too many decisions from your network; try again later"}
    if len(body) > MAX_BODY:
        return 413, {"error": f"the decision is too large (at most {MAX_BODY} bytes)"}
    try:
        decision = parse(strictjson.loads(body, max_depth=MAX_DEPTH, max_bytes=MAX_BODY))
    except ValueError as exc:  # strictjson.JSONError is one too, naming the place
        return 400, {"error": str(exc)}
    try:
        outcome = writer.store(decision)
    except TimeoutError:
        return 503, {"error": "the decision could not be stored in time; try again"}
    if outcome == writer.TOO_MANY:
        return 429, {
            "error": f"this consent id has made {ConsentDecision.CHANGES_PER_DAY} "
            "decisions in the last 24 hours; try again later"
        }
    if outcome == writer.REPEATED:  # the same choice is on record from today already
        return 200, {"id": decision.consent_id, "stored": True, "repeated": True}
    return 201, {"id": decision.consent_id, "stored": True}


def parse(data: object) -> ConsentDecision:
    """A decision from the posted JSON, checked against what the banner showed; ValueError
    naming the field that is wrong."""
    policy = current_policy()
    if not isinstance(data, dict):
        raise ValueError("a decision is a JSON object")
    consent_id = data.get("id")
    if not isinstance(consent_id, str) or not _UUID.match(consent_id):
        raise ValueError("id: a random UUID (version 4) made by the browser")
    if data.get("action") not in ConsentDecision.Action.values:
        raise ValueError(f"action: one of {', '.join(ConsentDecision.Action.values)}")
    lang = data.get("lang")
    if lang not in policy.languages:
        raise ValueError(f"lang: one of {', '.join(policy.languages)}")
    shown = shown_config(policy, lang)
    revision = data.get("revision")
    if not isinstance(revision, int) or isinstance(revision, bool):
        raise ValueError("revision: the banner revision, a whole number")
    if data.get("hash") != shown["hash"] or revision != shown["revision"]:
        raise ValueError("hash/revision: the banner has changed since it was shown; reload")
    optional = {c["id"] for c in shown["categories"] if not c["required"]}
    services = {s["id"] for c in shown["categories"] for s in c["services"]}
    choices = data.get("categories")
    if not isinstance(choices, dict) or set(choices) != optional:
        raise ValueError(f"categories: true or false for each of {', '.join(sorted(optional))}")
    chosen_services = data.get("services", {})
    if not isinstance(chosen_services, dict) or not set(chosen_services) <= services:
        raise ValueError(f"services: true or false for any of {', '.join(sorted(services))}")
    for name, chosen in (("categories", choices), ("services", chosen_services)):
        for key, value in chosen.items():
            if not isinstance(value, bool):
                raise ValueError(f"{name}.{key}: only true or false")
    values = [*choices.values(), *chosen_services.values()]
    if data["action"] in ("reject_all", "gpc") and any(values):
        raise ValueError(f"{data['action']}: every optional category and service must be false")
    if data["action"] == "accept_all" and not all(choices.values()):
        raise ValueError("accept_all: every optional category must be true")
    return ConsentDecision(
        consent_id=consent_id,
        action=data["action"],
        categories=choices,
        services=chosen_services,
        banner_revision=shown["revision"],
        policy_revision=policy.revision,
        text_hash=shown["hash"],
        locale=lang,
        at=timezone.now(),
    )


_STATUS = {
    200: "200 OK",
    201: "201 Created",
    204: "204 No Content",
    400: "400 Bad Request",
    403: "403 Forbidden",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    429: "429 Too Many Requests",
    503: "503 Service Unavailable",
}


def wsgi(environ: dict, start_response) -> list[bytes]:
    """The endpoint as a WSGI application (gallra.wsgi routes PATH to it)."""
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        start_response("400 Bad Request", [("Content-Type", "text/plain")])
        return [b"bad host"]
    try:  # never more than one byte past the limit, and never "all of it" (a negative length)
        length = max(0, min(int(environ.get("CONTENT_LENGTH") or 0), MAX_BODY + 1))
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length else b""
    own = f"{environ.get('wsgi.url_scheme', 'http')}://{host}"
    origin = environ.get("HTTP_ORIGIN")
    client = environ.get("REMOTE_ADDR", "")
    status, payload = answer(environ["REQUEST_METHOD"], body, origin, own, client)
    headers = cors(origin, own) + [
        ("X-Content-Type-Options", "nosniff"),
        ("Cache-Control", "no-store"),
    ]
    if payload is None:
        start_response(_STATUS[status], headers)
        return []
    data = json.dumps(payload).encode()
    headers += [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(_STATUS[status], headers)
    return [data]
