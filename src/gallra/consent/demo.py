"""A demo page for the banner, the way a provider's website would use it: scripts of each
category kept inert as `type="text/plain"`, an embedded video as `data-src`. Each optional
resource is fetched from gallra itself and counted, so a test can see from the server's side
what the browser loaded (and nothing leaves this machine)."""

from __future__ import annotations

from collections import Counter
from threading import Lock

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from gallra.policy.loading import current_policy

hits: Counter[str] = Counter()
_lock = Lock()

SCRIPTS = {
    "statistics": "window.gallraDemo.statistics = (window.gallraDemo.statistics || 0) + 1;"
    'document.cookie = "_pk_id.1.d3m0=visitor; Path=/; Max-Age=3600";',
    "social_sharing": "window.gallraDemo.social = (window.gallraDemo.social || 0) + 1;",
}


def _count(name: str) -> None:
    with _lock:
        hits[name] += 1


def page(request: HttpRequest) -> HttpResponse:
    lang = "en" if request.GET.get("lang") == "en" else "sv"
    org = current_policy().organisation
    response = render(request, "consent/demo.html", {"lang": lang, "org": org.brand or org.name})
    # The page stands in for a provider's website, whose own policy lets the banner release
    # the inline script it holds back; gallra's own pages allow no inline script.
    response["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "object-src 'none'; base-uri 'none'"
    )
    return response


def script(request: HttpRequest, name: str) -> HttpResponse:
    if name not in SCRIPTS:
        return HttpResponse(status=404)
    _count(name)
    return HttpResponse(SCRIPTS[name], content_type="text/javascript")


def video(request: HttpRequest) -> HttpResponse:
    _count("video")
    return HttpResponse("<!doctype html><title>Video</title><p>▶ Demo video</p>")


def log(request: HttpRequest) -> JsonResponse:
    """What the demo's optional resources were fetched, and how often. DELETE clears it."""
    if request.method == "DELETE":
        with _lock:
            hits.clear()
    return JsonResponse(dict(hits))
