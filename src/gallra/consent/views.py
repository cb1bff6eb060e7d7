"""The banner's server side: its configuration, and the endpoint that stores decisions.

The provider's website is another origin: both answer it with CORS headers, but only the
origins in GALLRA_CONSENT_ORIGINS (and gallra's own) may post. A decision is posted as
`text/plain` JSON, a "simple" cross-origin request, so the browser sends no preflight.
"""

from __future__ import annotations

import json
import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from gallra.consent.config import banner_config
from gallra.consent.models import ConsentDecision
from gallra.consent.writer import writer
from gallra.policy.loading import current_policy

MAX_BODY = 8192


def _allowed_origin(request: HttpRequest) -> str | None:
    origin = request.headers.get("Origin")
    if origin is None:
        return None
    own = f"{request.scheme}://{request.get_host()}"
    return origin if origin == own or origin in settings.GALLRA_CONSENT_ORIGINS else None


def _cors(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    origin = _allowed_origin(request)
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "86400"
    response["Vary"] = "Origin"
    return response


def _base_url(request: HttpRequest) -> str:
    return f"{request.scheme}://{request.get_host()}"


@csrf_exempt
def config(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), request)
    data = banner_config(current_policy(), request.GET.get("lang", ""), _base_url(request))
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=300"
    return _cors(response, request)


def _problem(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return _cors(JsonResponse({"error": message}, status=status), request)


@csrf_exempt
def decisions(request: HttpRequest) -> HttpResponse:
    """Store one decision; 201 once it is committed. Errors name what is wrong."""
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204), request)
    if request.method != "POST":
        return _problem(request, 405, "POST a decision")
    if request.headers.get("Origin") and _allowed_origin(request) is None:
        return _problem(request, 403, "this origin may not record consent here")
    if len(request.body) > MAX_BODY:
        return _problem(request, 413, "the decision is too large")
    try:
        data = json.loads(request.body)
        decision = _decision(data, current_policy())
    except (ValueError, TypeError, KeyError) as exc:
        return _problem(request, 400, str(exc) if isinstance(exc, ValueError) else "bad JSON")
    try:
        writer.store(decision)
    except TimeoutError:
        return _problem(request, 503, "the decision could not be stored in time; try again")
    return _cors(JsonResponse({"id": decision.consent_id, "stored": True}, status=201), request)


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _decision(data: dict, policy) -> ConsentDecision:
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
    shown = banner_config(policy, lang, "")
    if data.get("hash") != shown["hash"] or data.get("revision") != shown["revision"]:
        raise ValueError("hash/revision: the banner has changed since it was shown; reload")
    optional = {c["id"] for c in shown["categories"] if not c["required"]}
    services = {s["id"] for c in shown["categories"] for s in c["services"]}
    choices = data.get("categories")
    if not isinstance(choices, dict) or set(choices) != optional:
        raise ValueError(f"categories: true or false for each of {', '.join(sorted(optional))}")
    chosen_services = data.get("services", {})
    if not isinstance(chosen_services, dict) or not set(chosen_services) <= services:
        raise ValueError(f"services: true or false for any of {', '.join(sorted(services))}")
    values = [*choices.values(), *chosen_services.values()]
    if not all(isinstance(v, bool) for v in values):
        raise ValueError("categories and services: only true or false")
    if data["action"] in ("reject_all", "gpc") and any(values):
        raise ValueError(f"{data['action']}: every optional category and service must be false")
    if data["action"] == "accept_all" and not all(choices.values()):
        raise ValueError("accept_all: every optional category must be true")
    return ConsentDecision(
        consent_id=consent_id, action=data["action"], categories=choices,
        services=chosen_services, banner_revision=shown["revision"],
        policy_revision=policy.revision, text_hash=shown["hash"], locale=lang,
        at=timezone.now(),
    )  # fmt: skip
