"""What every response carries (P8): a Content-Security-Policy that lets nothing but gallra's
own scripts run, and the other headers Django does not set; and a staff session that ends
after a working day however active it is (Django ends an idle one: SESSION_COOKIE_AGE)."""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.contrib.auth import logout

CSP = (
    "default-src 'self'; script-src 'self'{nonce}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


class SecurityHeaders:
    """Inline scripts run only with the request's nonce (`request.csp_nonce` in templates);
    a view whose page is embedded elsewhere (the consent banner) sets its own header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        nonce = f" 'nonce-{request.csp_nonce}'"
        response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=nonce))
        response.headers.setdefault("Permissions-Policy", PERMISSIONS)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


class WorkingDaySession:
    """Logs a staff member out GALLRA_SESSION_MAX_SECONDS after they logged in."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = request.session.get("login_at") if hasattr(request, "session") else None
        if started is not None and time.time() - started > settings.GALLRA_SESSION_MAX_SECONDS:
            logout(request)
        return self.get_response(request)
