"""The contact form (P20-P21: relayed by e-mail, kept nowhere once delivered) and the privacy
centre (a data-subject request from the public: the case is opened, the link mailed if the
address is on record).

Neither talks to the mail relay: the mail goes into the outbox (sealed) and is delivered
after the answer (docs/mail.md). So the answer does not depend on the relay, and the privacy
centre answers the same, in the same time, whatever the address: it only opens the case and
queues "send the link if the address is on record", which is decided at delivery."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gallra.contact import guard
from gallra.contact.forms import ContactForm, SubjectRequestForm
from gallra.outbox import mail as outbox
from gallra.policy.loading import current_policy
from gallra.subjects import cases
from gallra.subjects.identity import Identity

TOO_FAST = gettext_lazy("The form was sent too quickly or is too old. Please send it again.")
TOO_MANY = gettext_lazy("Too many posts from your connection. Try again later.")
NOT_SET_UP = gettext_lazy("The contact form is not set up. Please call or write to us.")


def _page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    context |= {"token": guard.form_token(), "honeypot": guard.HONEYPOT, "org": _org_name()}
    return render(request, template, context, status=status)


def _org_name() -> str:
    org = current_policy().organisation
    return org.brand or org.name


def _refused(request, template: str, form, status: int, message: str) -> HttpResponse:
    return _page(request, template, {"form": form, "error": message}, status=status)


def contact_to() -> str:
    return settings.GALLRA_CONTACT_TO or current_policy().organisation.email


def _checked(request: HttpRequest, template: str, form_class, scope: str):
    """(form, None) for a valid post from a person, or (None, the page that refuses it).
    A GET is answered with the empty form."""
    if request.method == "GET":
        return None, _page(request, template, {"form": form_class()})
    form = form_class(request.POST)
    if guard.over_limit(request, scope):
        return None, _refused(request, template, form, 429, TOO_MANY)
    if guard.is_bot(request):
        return None, _refused(request, template, form, 400, TOO_FAST)
    if not form.is_valid():
        return None, _page(request, template, {"form": form}, status=400)
    return form, None


@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest) -> HttpResponse:
    template = "contact/contact.html"
    form, refused = _checked(request, template, ContactForm, "contact")
    if refused:
        return refused
    to = contact_to()
    if not to:
        return _refused(request, template, form, 503, NOT_SET_UP)
    data = form.cleaned_data
    message = outbox.Message(
        subject=_("Message from the website: %(name)s") % {"name": data["name"]},
        body=data["message"],
        to=(to,),
        reply_to=(data["email"],),
    )
    outbox.queue(message, kind="contact", now=timezone.now())
    return _page(request, template, {"sent": True})


@require_http_methods(["GET", "POST"])
def centre(request: HttpRequest) -> HttpResponse:
    """File a data-subject request. The answer never tells whether the address is known."""
    template = "contact/centre.html"
    form, refused = _checked(request, template, SubjectRequestForm, "centre")
    if refused:
        return refused
    data = form.cleaned_data
    now = timezone.now()
    lang = "en" if request.LANGUAGE_CODE.startswith("en") else "sv"
    with transaction.atomic():
        case = cases.open_request(
            data["kind"],
            Identity.of(data["email"], data["name"]),  # the form has checked the address
            received=timezone.localdate(),
            now=now,
            actor="privacy-centre",
            note_text=data["details"],
            complete=False,
        )
        # Whether the address is on record is not looked up here: the same work for every
        # address. An unknown one gets no link; staff see the case without one.
        cases.queue_link(case, now=now, actor="privacy-centre", lang=lang)
    return _page(request, template, {"sent": True, "ref": case.ref})
