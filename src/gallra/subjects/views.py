"""The one page a data subject sees: confirming a request with the link we mailed.

GET only shows a button; the POST verifies. Mail scanners that open links must not
verify a request on the subject's behalf.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext

from gallra.subjects.cases import CaseError, LinkInvalid, use_link


def _link_problem(problem: str) -> str:
    """What the subject reads when the link cannot be used (LinkInvalid's reason)."""
    if problem == "used":
        return gettext("The link was already used. Your request is already confirmed or closed.")
    if problem == "expired":
        return gettext("The link has expired. Contact us and we will send a new one.")
    return gettext("The link is not valid.")


def verify(request: HttpRequest, token: str) -> HttpResponse:
    lang = "en" if request.GET.get("lang") == "en" else "sv"
    with translation.override(lang):
        return _verify(request, token, lang)


def _verify(request: HttpRequest, token: str, lang: str) -> HttpResponse:
    if request.method == "POST":
        try:
            subject_request = use_link(token, now=timezone.now())
        except LinkInvalid as exc:
            return render(
                request,
                "subjects/verify.html",
                {"lang": lang, "error": _link_problem(str(exc))},
                status=410,
            )
        except CaseError as exc:
            return render(
                request,
                "subjects/verify.html",
                {"lang": lang, "error": exc.translated()},
                status=409,
            )
        return render(
            request,
            "subjects/verify.html",
            {"lang": lang, "done": True, "ref": subject_request.ref},
        )
    return render(request, "subjects/verify.html", {"lang": lang, "ask": True})
