"""The staff login (P8): password and one-time code in one form, throttled per account and
per client, recorded as a login event like any other login to the provider's systems."""

from __future__ import annotations

import logging
from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.auth import authenticate, login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from gallra.staff.models import LoginFailure, TwoFactor
from gallra.staff.roles import needs_two_factor

log = logging.getLogger(__name__)

WINDOW = timedelta(minutes=15)
PER_ACCOUNT = 5  # failures per account in the window before it is locked
PER_CLIENT = 20  # failures per client address in the window, whatever the accounts
SERVICE = "gallra"


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    code = forms.CharField(
        label=_("One-time code"),
        max_length=12,
        required=False,
        help_text=_("The six digits your authenticator app shows for gallra."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


def _record(request: HttpRequest, username: str, outcome: str, method: str) -> None:
    """Staff logins are login events (P8): anonymised and sealed like every other."""
    from gallra.logins import sshd
    from gallra.logins.ingest import EventWriter
    from gallra.logins.sealing import NoEscrow
    from gallra.policy.loading import current_policy

    attempt = sshd.Attempt(
        at=timezone.now(),
        outcome=outcome,
        method=method,
        username=username[:150],
        address=request.META.get("REMOTE_ADDR", ""),
        host="",
    )
    try:
        writer = EventWriter(current_policy())
        row = writer.row(attempt, SERVICE)
        if not isinstance(row, str):
            writer.write([row])
    except NoEscrow:
        log.warning("staff login not recorded: no escrow key yet (gallra logins escrow init)")


@transaction.non_atomic_requests  # LoginFailure.attempt commits its count before the check
@sensitive_post_parameters("password", "code")
@csrf_protect
@never_cache
def staff_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin's login page. Every refusal says the same, so it tells an attacker nothing."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/admin/"
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        next_url = "/admin/"
    if request.method == "POST":
        form = LoginForm(request.POST)
        status, error = 200, _("Wrong username, password or one-time code.")
        if form.is_valid():
            username = form.cleaned_data["username"]
            account = LoginFailure.key_for("account", username.lower())
            keys = {
                account: PER_ACCOUNT,
                LoginFailure.key_for("client", request.META.get("REMOTE_ADDR", "")): PER_CLIENT,
            }
            attempt, until = LoginFailure.attempt(keys, WINDOW)  # counted before any check
            if until is not None:
                _record(request, username, "failure", "locked")
                minutes = max(1, int((until - timezone.now()).total_seconds() // 60) + 1)
                error = _("Too many failed logins. Try again in %(minutes)d minutes.") % {
                    "minutes": minutes
                }
                status = 429
            else:
                user, method = _check(request, form.cleaned_data)
                if user is not None:
                    login(request, user)  # a new session key: a planted one is worth nothing
                    request.session["login_at"] = timezone.now().timestamp()
                    LoginFailure.succeeded(account, attempt)
                    _record(request, username, "success", method)
                    return HttpResponseRedirect(next_url)
                _record(request, username, "failure", method)  # the attempt stays counted
    else:
        form = LoginForm()
        status, error = 200, ""
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "form": form,
        "error": error,
        "next": next_url,
        **(extra_context or {}),
    }
    return render(request, "staff/login.html", context, status=status)


def _check(request: HttpRequest, data: dict):
    """(the user, the method) when password and, where needed, code are right."""
    user = authenticate(request, username=data["username"], password=data["password"])
    if user is None or not (user.is_active and user.is_staff):
        return None, "password"
    second = TwoFactor.objects.filter(user=user).first()
    if second is None:
        # A role that sees personal data may not log in on a password alone.
        return (None, "password") if needs_two_factor(user) else (user, "password")
    return (user, "password+totp") if second.accept(data["code"]) else (None, "password+totp")
