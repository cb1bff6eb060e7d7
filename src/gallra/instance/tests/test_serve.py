"""End to end: `gallra init`, `gallra demo`, `gallra serve`, then a real browser-like session.

The admin login page answers on 127.0.0.1 in Swedish, with DEBUG off; a staff member logs in
with the password `gallra init` printed; the registry lists the demo customers; the admin's
CSS is served. Runs on a temporary SQLite data directory (see conftest.py).
"""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from gallra.instance.tests.conftest import free_port, printed_password, serving
from gallra.staff import totp


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str):
        return self.opener.open(self.base + path, timeout=10)

    def post(self, path: str, fields: dict[str, str]):
        body = urllib.parse.urlencode(fields).encode()
        return self.opener.open(self.base + path, data=body, timeout=10)


@pytest.fixture
def server(gallra, tmp_path):
    init = gallra.run("init")
    password = printed_password(init.stdout)
    secret = re.search(r"two-factor secret: ([A-Z2-7]+)", init.stdout).group(1)
    assert password
    gallra.run("demo", "--data-only")  # the first hour's steps: test_demo_in_browser.py
    with serving(gallra, tmp_path / "serve.log") as (base, log_path):
        yield base, password, secret
        assert "serving on " + base in log_path.read_text()


def test_admin_answers_and_lists_the_demo_customers(server, gallra):
    base, password, secret = server
    browser = Browser(base)

    with browser.get("/admin/login/") as response:
        assert response.status == 200
        assert response.headers["Content-Language"] == "sv"
        assert response.headers["Server"] == "gallra"  # waitress, not runserver
        page = response.read().decode()
    assert '<html lang="sv"' in page and "Logga in" in page
    assert "Traceback" not in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    with browser.post(
        "/admin/login/?next=/admin/",
        {
            "csrfmiddlewaretoken": token,
            "username": "admin",
            "password": password,
            "code": totp.code_at(secret, totp.now_step()),
            "next": "/admin/",
        },
    ) as response:
        assert response.status == 200
        assert response.url == base + "/admin/"  # redirected: logged in

    with browser.get("/admin/registry/customer/") as response:
        assert response.status == 200
        listing = html.unescape(response.read().decode())
    names = [name for (name,) in gallra.query("SELECT name FROM registry_customer")]
    assert len(names) >= 24
    missing = [name for name in names if name not in listing]
    assert not missing, f"not listed: {missing}"

    with browser.get("/static/admin/css/base.css") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/css")
        assert len(response.read()) > 1000

    # DEBUG is off: an unknown page is a plain 404, not Django's debug page.
    with pytest.raises(urllib.error.HTTPError) as raised:
        browser.get("/admin/no-such-page/")
    assert raised.value.code in (302, 404)
    assert "URLconf" not in raised.value.read().decode()


def test_the_login_refuses_a_wrong_password(server):
    base, _password, _secret = server
    browser = Browser(base)
    with browser.get("/admin/login/") as response:
        page = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    fields = {"csrfmiddlewaretoken": token, "username": "admin", "password": "wrong-password-1"}
    with browser.post("/admin/login/", fields) as response:
        assert response.url == base + "/admin/login/"
        assert "Logga in" in response.read().decode()
    with browser.get("/admin/registry/customer/") as response:
        assert "/admin/login/" in response.url  # still not logged in


def test_serve_refuses_to_start_before_init(gallra):
    result = gallra.run("serve", "--port", str(free_port()), check=False)
    assert result.returncode == 2
    assert "gallra init" in result.stderr
