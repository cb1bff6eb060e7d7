"""The public privacy notice, in the visitor's language (?lang=en, or the browser's)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from gallra.notice.content import render
from gallra.policy.loading import current_policy


def language(request: HttpRequest, languages: list[str]) -> str:
    asked = request.GET.get("lang") or request.LANGUAGE_CODE[:2]
    return asked if asked in languages else languages[0]


@require_GET
def notice(request: HttpRequest) -> HttpResponse:
    policy = current_policy()
    return HttpResponse(render(policy, language(request, policy.languages)))
