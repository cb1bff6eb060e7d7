"""Staff login (P8): password and one-time code, throttled, recorded, and safe against the
usual attacks on a login form."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client

from gallra.conftest import STAFF_PASSWORD
from gallra.logins.models import LoginEvent
from gallra.staff import accounts, totp
from gallra.staff.models import TwoFactor
from gallra.staff.views import PER_ACCOUNT, PER_CLIENT

pytestmark = pytest.mark.django_db


@pytest.fixture
def escrow(db):
    from django.utils import timezone

    from gallra.logins.models import Escrow

    Escrow.make(3, 2, timezone.now())


def code(user, step_offset: int = 0) -> str:
    return totp.code_at(user.two_factor.secret, totp.now_step() + step_offset)


def post(client: Client, username: str, password: str, one_time: str = "", **extra):
    fields = {"username": username, "password": password, "code": one_time, "next": "/admin/"}
    return client.post("/admin/login/", fields, **extra)


@pytest.fixture
def ceo(staff_member):
    user = staff_member("vd", "ceo")
    accounts.enrol(user, actor="test")
    return user


def test_the_ceo_logs_in_with_password_and_code(client, ceo):
    response = post(client, "vd", STAFF_PASSWORD, code(ceo))
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_role_that_sees_personal_data_needs_the_code(client, ceo):
    for wrong in ("", "000000", code(ceo, -5)):
        response = post(client, "vd", STAFF_PASSWORD, wrong)
        assert response.status_code == 200
        assert SESSION_KEY not in client.session
    # without a second factor enrolled at all, no login either
    TwoFactor.objects.filter(user=ceo).delete()
    assert post(client, "vd", STAFF_PASSWORD).status_code == 200
    assert SESSION_KEY not in client.session


def test_a_code_works_once(ceo):
    one_time = code(ceo)
    assert post(Client(), "vd", STAFF_PASSWORD, one_time).status_code == 302
    assert post(Client(), "vd", STAFF_PASSWORD, one_time).status_code == 200


def test_a_technician_without_personal_data_may_log_in_on_a_password(client, staff_member):
    staff_member("tekniker", "technician")
    assert post(client, "tekniker", STAFF_PASSWORD).status_code == 302


def test_brute_force_against_one_account_is_locked_out(ceo):
    for n in range(PER_ACCOUNT):
        response = post(Client(REMOTE_ADDR=f"198.51.100.{n}"), "vd", f"guess {n}", "123456")
        assert response.status_code == 200
    # now even the right password and code are refused, from any client, and say why
    response = post(Client(REMOTE_ADDR="192.0.2.200"), "vd", STAFF_PASSWORD, code(ceo))
    assert response.status_code == 429
    assert "Försök igen om" in response.content.decode()
    assert SESSION_KEY not in Client().session


def test_one_client_trying_many_accounts_is_locked_out(ceo, staff_member):
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for n in range(PER_CLIENT):
        assert post(attacker, f"user{n}", "Sommar2026!").status_code == 200
    assert post(attacker, "vd", STAFF_PASSWORD, code(ceo)).status_code == 429
    # another client logs in to the same account as usual
    assert (
        post(Client(REMOTE_ADDR="192.0.2.10"), "vd", STAFF_PASSWORD, code(ceo)).status_code == 302
    )


def test_unlock_forgets_an_accounts_failures(ceo):
    from django.core.management import call_command

    for n in range(PER_ACCOUNT):
        post(Client(), "vd", f"guess {n}")
    call_command("staff", "unlock", "vd")
    assert post(Client(), "vd", STAFF_PASSWORD, code(ceo)).status_code == 302


def test_a_planted_session_key_is_worth_nothing(ceo):
    """Session fixation: the key the attacker gave the victim does not become logged in."""
    client = Client()
    client.get("/admin/login/")
    session = client.session
    session["planted"] = True
    session.save()
    planted = session.session_key
    assert post(client, "vd", STAFF_PASSWORD, code(ceo)).status_code == 302
    assert client.session.session_key != planted
    attacker = Client()
    attacker.cookies["sessionid"] = planted
    response = attacker.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_login_without_the_csrf_token_is_refused(ceo):
    client = Client(enforce_csrf_checks=True)
    response = post(client, "vd", STAFF_PASSWORD, code(ceo))
    assert response.status_code == 403
    assert SESSION_KEY not in client.session
    # and an admin form posted without the token by a logged-in user changes nothing
    client.force_login(ceo)
    response = client.post("/admin/registry/hold/add/", {"ref": "H-X"})
    assert response.status_code == 403


def test_staff_logins_are_login_events(ceo, escrow):
    post(Client(REMOTE_ADDR="192.0.2.44"), "vd", "wrong", "000000")
    post(Client(REMOTE_ADDR="192.0.2.44"), "vd", STAFF_PASSWORD, code(ceo))
    events = list(LoginEvent.objects.filter(service="gallra").order_by("at", "id"))
    assert [e.outcome for e in events] == ["failure", "success"]
    assert {e.network for e in events} == {"192.0.2.0/24"}  # anonymised like every login
    assert events[1].method == "password+totp"


def test_a_session_ends_when_idle_and_after_a_working_day(client, ceo, settings):
    assert post(client, "vd", STAFF_PASSWORD, code(ceo)).status_code == 302
    assert settings.SESSION_COOKIE_AGE <= 30 * 60 and settings.SESSION_SAVE_EVERY_REQUEST
    session = client.session
    session["login_at"] -= settings.GALLRA_SESSION_MAX_SECONDS + 1
    session.save()
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_every_page_sends_the_security_headers(client, ceo):
    for path in ("/admin/login/", "/privacy/"):
        response = client.get(path)
        csp = response["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert "'unsafe-inline'" not in script_src and "http" not in script_src
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"
        assert "camera=()" in response["Permissions-Policy"]


def test_cookies_are_secure_behind_https(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "GALLRA_HTTPS": "1", "GALLRA_DATA": str(tmp_path)}
    probe = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='gallra.settings'; "
        "django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, "
        "s.SESSION_COOKIE_SAMESITE, s.SECURE_HSTS_SECONDS > 0)"
    )
    command = [sys.executable, "-c", probe]
    out = subprocess.run(command, env=env, capture_output=True, text=True)  # noqa: S603
    assert out.stdout.split() == ["True", "True", "True", "Lax", "True"], out.stderr


def test_the_password_policy_means_it(ceo):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    ceo.first_name, ceo.last_name, ceo.email = "Anna", "Svensson", "anna.svensson@example.se"
    weak = {
        "short1!": "kort",
        "password1234": "vanligt",
        "qwertyuiop123": "vanligt",
        "annasvensson12": "likt",
        "123456789012": "numeriskt",
        # Swedish words and the company's own name, dressed up: Django's list is English
        "Sommar2026!!": "vanligt ord",
        "Lösenord#2026": "vanligt ord",
        "RedCloud2026!!": "företagets namn",
        "JufCorp-123456": "företagets namn",
        "Stockholm1987!": "vanligt ord",
    }
    for password, why in weak.items():
        with pytest.raises(ValidationError, match=why):
            validate_password(password, ceo)
    validate_password("kanelbulle-fyrtorn-1987-mossa", ceo)
    assert ceo.password.startswith("argon2$argon2id$")
