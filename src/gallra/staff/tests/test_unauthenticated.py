"""A visitor who has not logged in reaches nothing of the back office (P8, P22).

Every URL of the project is found from the URL resolver, so pages that other apps add later
are covered without touching this test. Each is asked with GET and with an empty POST; its
parameters are filled with the pk or ref of a real record of the demo data where there is one.
"""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from gallra.instance import demo
from gallra.registry.importing import import_document
from gallra.registry.models import Customer, Person, Prospect
from gallra.subjects import cases
from gallra.subjects.identity import Identity
from gallra.subjects.models import SubjectRequest

pytestmark = pytest.mark.django_db

# What answers a visitor without a login, by URL name ("namespace:name") or path prefix, and
# why it may. Anything else that answers 2xx to a visitor fails the test.
PUBLIC = {
    "admin:login": "the staff login page itself",
    "notice:notice": "the privacy notice (P24): Art. 13 says everyone may read it",
    "notice:centre": "the privacy centre's form: a data subject files a request (Art. 12)",
    "contact:contact": "the website's contact form (P20-P21), relayed by mail",
    "subjects:verify": "the page of the link mailed to a data subject: a button to confirm",
    "consent:config": "the cookie banner's texts and categories, read by every visitor (P23)",
    "consent:demo": "the banner's demo page, a stand-in for the provider's website",
    "consent:demo-script": "the demo page's dummy scripts, counted to prove the banner blocks",
    "consent:demo-video": "the demo page's dummy embedded video, counted the same way",
    "consent:demo-log": "the demo's counts of those dummy loads (no visitor data)",
    "api-v1:openapi-json": "the API's description: operations and shapes, no data",
    "api-v1:openapi-view": "the same description as a page (Swagger UI, served locally)",
    "/static/": "the admin's and the banner's stylesheets, scripts and images",
}
# What a program calls with a bearer token: without one, 401 (or 405 for the wrong method).
TOKEN = ("api-v1:", "logins:events")
# A synthetic personnummer (Skatteverket's test series): the demo holds none, so the test
# gives one to a private customer and one to a data-subject request, to look for it.
PERSONNUMMER = "19121212-1212"
STATIC = "/static/admin/css/base.css"

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")
_MODEL_ROUTE = re.compile(r"^admin/(\w+)/(\w+)/")


def every_pattern(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, URLPattern]]:
    """(route, "namespace:name", pattern) for each URL pattern, through every include."""
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            inner = f"{namespace}{p.namespace}:" if p.namespace else namespace
            yield from every_pattern(p, prefix + str(p.pattern), inner)
        else:
            yield prefix + str(p.pattern), f"{namespace}{p.name or ''}", p


def route_params(route: str) -> list[str]:
    return [a or b for a, b in _PARAM.findall(route)]


def fill(route: str, values: dict[str, str]) -> str:
    """The path a route matches with `values` for its parameters."""
    path = _PARAM.sub(lambda m: values[m.group(1) or m.group(2)], route)
    path = re.sub(r"\\(.)", r"\1", path.replace("^", "").replace("$", ""))
    return "/" + path


def admin_model(route: str):
    """The model whose admin a route belongs to (admin/APP/MODEL/...), or None."""
    match = _MODEL_ROUTE.match(route)
    if not match:
        return None
    try:
        return apps.get_model(*match.groups())
    except LookupError:
        return None


def _first_pk(model) -> str:
    obj = model._default_manager.order_by("pk").first()
    return str(obj.pk) if obj is not None else "1"


def paths_of(route: str) -> list[str]:
    """Concrete paths for a route: real pks and refs where the database has them, else a
    dummy value; an app list for every app in the admin."""
    model = admin_model(route)
    choices: dict[str, list[str]] = {}
    for name in route_params(route):
        if name == "app_label":
            found = {m._meta.app_label for m in admin.site._registry}
            choices[name] = sorted(found)
        elif name == "content_type_id":
            choices[name] = [str(ContentType.objects.get_for_model(Customer).pk)]
        elif model is not None and name in ("object_id", "pk", "id"):
            choices[name] = [_first_pk(model)]
        elif name == "object_id":
            choices[name] = [_first_pk(Customer)]
        elif name == "ref":
            request = SubjectRequest.objects.order_by("pk").first()
            choices[name] = [request.ref if request else "R-1"]
        elif name == "url":
            choices[name] = ["nothing/here/"]
        else:
            choices[name] = ["1" if name.endswith("id") else "x"]
    names = list(choices)
    return [
        fill(route, dict(zip(names, combo, strict=True)))
        for combo in itertools.product(*(choices[n] for n in names))
    ]


@pytest.fixture
def demo_data() -> list[str]:
    """The demo and a request from one of its people; returns the names, e-mail addresses and
    personnummer that a visitor must not see."""
    today = timezone.localdate()
    import_document(demo.build(today))
    private = Customer.objects.filter(kind=Customer.Kind.PRIVATE).order_by("pk").first()
    private.org_number = PERSONNUMMER
    private.save(update_fields=["org_number"])
    person = Person.objects.exclude(email="").order_by("pk").first()
    identity = Identity.of(
        person.email, f"{person.first_name} {person.last_name}", personnummer=PERSONNUMMER
    )
    cases.open_request("access", identity, received=today, now=timezone.now(), actor="test")
    personal = [PERSONNUMMER]
    personal += Customer.objects.values_list("name", flat=True)
    personal += Person.objects.exclude(email="").values_list("email", flat=True)
    personal += Prospect.objects.values_list("name", flat=True)
    personal += Prospect.objects.exclude(email="").values_list("email", flat=True)
    return personal


def _allowed(name: str, path: str) -> bool:
    return name in PUBLIC or any(path.startswith(p) for p in PUBLIC if p.startswith("/"))


def _is_token(name: str) -> bool:
    return any(name.startswith(t) if t.endswith(":") else name == t for t in TOKEN)


def _ends_at_login(client: Client, response) -> bool:
    """A redirect to the login page, possibly by way of the admin's index (Django's logout
    sends a visitor there first)."""
    for _hop in range(3):
        if response.status_code != 302:
            return False
        target = urlsplit(response["Location"]).path
        if target == "/admin/login/":
            return True
        if not target.startswith("/admin/"):
            return False
        response = client.get(target)
    return False


def _pages() -> list[tuple[str, str]]:
    """(path, URL name) of every URL pattern, filled in, and a static file."""
    pages = [(p, name) for route, name, _ in every_pattern() for p in paths_of(route)]
    return [*pages, (STATIC, "")]


def _token_checked(statuses: set[int]) -> bool:
    """401 for the method it serves, 405 for the other; or a page that is not there at all
    (the API's root exists only with DEBUG)."""
    return (401 in statuses and statuses <= {401, 405}) or statuses == {404}


def test_every_url_is_closed_to_a_visitor_unless_listed(demo_data):
    client = Client()
    pages = _pages()
    assert len(pages) > 100  # the admin of every model is in there
    problems, answered, tokens = [], set(), {}
    for path, name in pages:
        if path != STATIC and name.split(":")[-1]:
            assert resolve(path).view_name == name, path  # the path reaches its pattern
        for method in ("get", "post"):
            response = getattr(client, method)(path)
            status, where = response.status_code, f"{method.upper()} {path} ({name})"
            body = b"".join(response) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            if any(value in text or html.escape(value) in text for value in demo_data):
                problems.append(f"{where}: shows personal data of the demo")
            if _allowed(name, path):
                if 200 <= status < 300:
                    answered.add(name or path)
            elif _is_token(name):
                tokens.setdefault(where.split(" ", 1)[1], set()).add(status)
            elif path.startswith("/admin/"):
                if not (_ends_at_login(client, response) or status in (403, 404, 405)):
                    problems.append(f"{where}: {status}, not the login page")
            elif 200 <= status < 300:
                problems.append(f"{where}: {status} to a visitor, and not in PUBLIC")
    problems += [
        f"{p}: {sorted(s)} without a token" for p, s in tokens.items() if not _token_checked(s)
    ]
    assert not problems, "\n".join(problems)
    # The list names pages that exist and answer, and the token endpoints were reached.
    assert {"admin:login", "notice:notice", "contact:contact", STATIC} <= answered
    assert any(p.startswith("/logins/events") for p in tokens)


def test_a_wrong_token_is_refused_with_401(demo_data):
    client = Client()
    wrong = {"HTTP_AUTHORIZATION": "Bearer glt_not-a-token"}
    checked = 0
    for path, name in _pages():
        if not _is_token(name) or _allowed(name, path):
            continue
        statuses = {
            client.get(path, **wrong).status_code,
            client.post(path, data="{}", content_type="application/json", **wrong).status_code,
        }
        assert _token_checked(statuses), (path, statuses)
        checked += 401 in statuses
    assert checked >= 1
