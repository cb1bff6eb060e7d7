"""The one page a data subject sees: confirming a request with the link we mailed.

GET only shows a button; the POST verifies. Mail scanners that open links must not
verify a request on the subject's behalf.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from gallra.subjects.cases import CaseError, LinkInvalid, use_link

MESSAGES = {
    "unknown": ("Länken är ogiltig.", "The link is not valid."),
    "used": (
        "Länken har redan använts. Din begäran är redan bekräftad eller avslutad.",
        "The link was already used. Your request is already confirmed or closed.",
    ),
    "expired": (
        "Länken har gått ut. Kontakta oss så skickar vi en ny.",
        "The link has expired. Contact us and we will send a new one.",
    ),
}


def verify(request: HttpRequest, token: str) -> HttpResponse:
    lang = "en" if request.GET.get("lang") == "en" else "sv"
    i = 0 if lang == "sv" else 1
    if request.method == "POST":
        try:
            subject_request = use_link(token, now=timezone.now())
        except LinkInvalid as exc:
            return render(
                request,
                "subjects/verify.html",
                {"lang": lang, "error": MESSAGES[str(exc)][i]},
                status=410,
            )
        except CaseError as exc:
            return render(
                request, "subjects/verify.html", {"lang": lang, "error": str(exc)}, status=409
            )
        return render(
            request,
            "subjects/verify.html",
            {"lang": lang, "done": True, "ref": subject_request.ref},
        )
    return render(request, "subjects/verify.html", {"lang": lang, "ask": True})
