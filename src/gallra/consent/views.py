"""The banner's server side: its configuration, and the endpoint that stores decisions.

The provider's website is another origin: both answer it with CORS headers, but only the
origins in GALLRA_CONSENT_ORIGINS (and gallra's own) may post. A decision is posted as
`text/plain` JSON, a "simple" cross-origin request, so the browser sends no preflight. The
checks themselves live in endpoint.py, shared with the fast WSGI path of `gallra serve`.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from gallra.consent import endpoint
from gallra.consent.config import banner_config
from gallra.policy.loading import current_policy


def _body(request: HttpRequest) -> bytes:
    """At most one byte past the endpoint's limit: enough to answer 413."""
    return request.read(endpoint.MAX_BODY + 1)


def _cors(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    for name, value in endpoint.cors(request.headers.get("Origin"), _base_url(request)):
        response[name] = value
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


@csrf_exempt
def decisions(request: HttpRequest) -> HttpResponse:
    """Store one decision; 201 once it is committed. Errors name what is wrong."""
    status, payload = endpoint.answer(
        request.method,
        _body(request),
        request.headers.get("Origin"),
        _base_url(request),
        request.META.get("REMOTE_ADDR", ""),
    )
    response = (
        HttpResponse(status=status) if payload is None else JsonResponse(payload, status=status)
    )
    return _cors(response, request)
