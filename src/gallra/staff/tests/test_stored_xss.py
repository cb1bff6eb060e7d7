"""Stored XSS: text that a person typed, or that came in from a log or a form, is shown as
text on every page, never run as HTML or script.

The records are made through the ORM with a payload in every field a person can type, found
by introspecting the models, so a field added later is covered without touching this test.
Then a superuser opens every admin page that could show them (found from the admin registry
and the URL resolver), the public pages, and the subject export and erasure certificate.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, timedelta
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from gallra import background
from gallra.logins import partitions
from gallra.logins.models import LoginAlert, LoginEvent
from gallra.policy.loading import current_policy
from gallra.registry import models as registry
from gallra.retention.models import ManualTask
from gallra.staff.tests.test_unauthenticated import admin_model, every_pattern, paths_of
from gallra.subjects.models import StoreStep, SubjectRequest

pytestmark = pytest.mark.django_db

PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</title><svg onload=alert(1)>",
)
RAW = ("<script>alert(1)</script>", "<img src=x onerror", "<svg onload")
ESCAPED = ("&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror", "&lt;svg onload")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}
NOW = timezone.now()
TODAY = timezone.localdate()


def typed_fields(model: type[models.Model]) -> list[models.Field]:
    """The text fields a person (or a log line, or a form) fills in: CharField and TextField
    without fixed choices."""
    return [
        f
        for f in model._meta.get_fields()
        if isinstance(f, models.CharField | models.TextField)
        and f.concrete
        and not f.primary_key
        and not f.choices
    ]


def payload_for(field: models.Field, first: int) -> str | None:
    """PAYLOADS[first], or the next one that is a valid value of the field; an e-mail field
    gets one as a quoted local part. None when none fits (too short a field)."""
    for i in range(len(PAYLOADS)):
        payload = PAYLOADS[(first + i) % len(PAYLOADS)]
        candidates = [payload, f'"{payload}"@example.se']
        if isinstance(field, models.EmailField):
            candidates.reverse()
        for value in candidates:
            try:
                field.run_validators(value)
            except ValidationError:
                continue
            return value
    return None


def make(model: type[models.Model], payload: int, **values) -> models.Model:
    """A record with `values` and PAYLOADS[payload] (or the next that fits) in every other
    typed field."""
    obj = model(**values)
    for field in typed_fields(model):
        if field.name not in values:
            value = payload_for(field, payload)
            if value is not None:
                setattr(obj, field.attname, value)
    obj.save()
    return obj


@pytest.fixture
def superuser(staff_member):
    return staff_member("chef", current_policy().organisation.accountable, superuser=True)


def one_of_each(k: int, superuser) -> list[models.Model]:
    """One record of each kind whose free text staff, customers or the logs fill in, with
    PAYLOADS[k]."""
    customer = make(registry.Customer, k, kind=registry.Customer.Kind.COMPANY)
    person = make(registry.Person, k, customer=customer, is_user=True, is_contact=True)
    account = make(registry.Account, k, person=person, opened=date(2020, 1, 1))
    prospect = make(registry.Prospect, k, created=TODAY)
    out = [
        customer,
        person,
        account,
        prospect,
        make(registry.Agreement, k, customer=customer, start=date(2020, 1, 1)),
        make(registry.CustomerRequest, k, customer=customer, kind="order", created=TODAY),
        make(
            registry.TechnicalDocument,
            k,
            customer=customer,
            created=TODAY,
            content=customer.seal("drift"),
        ),
        make(
            registry.Credential,
            k,
            customer=customer,
            account=account,
            created=TODAY,
            secret=customer.seal("hemligt"),
        ),
        make(
            registry.Invoice,
            k,
            customer=customer,
            billing_contact=person,
            issued=TODAY,
            fiscal_year_end=date(TODAY.year, 12, 31),
            amount="149.00",
            currency="SEK",
        ),
        make(registry.Quote, k, prospect=prospect, customer=customer, created=TODAY),
        make(registry.Correspondence, k, customer=customer, prospect=prospect, received=TODAY),
        make(registry.Hold, k, reason=registry.Hold.Reason.AGREEMENT, until=TODAY),
    ]
    # Two requests from the person: an access request to export, an erasure to certify.
    for n, kind in enumerate(("access", "erasure")):
        request = make(
            SubjectRequest,
            k,
            ref=f"DSR-{TODAY.year}-09{k}{n}",
            kind=kind,
            email=person.email,
            name=f"{person.first_name} {person.last_name}",
            username=account.username,
            personnummer="",
            received=TODAY,
            due=TODAY + timedelta(days=30),
            status=SubjectRequest.Status.VERIFIED,
            verified_at=NOW,
            change_field="",
        )
        out += [request, make(StoreStep, k, request=request, status="failed", at=NOW)]
    at = NOW.astimezone(UTC)
    partitions.ensure_months({date(at.year, at.month, 1)})
    out += [
        make(LoginAlert, k, kind="brute_force", first_at=NOW, last_at=NOW, events=12),
        make(LoginEvent, k, at=NOW, outcome="failure", sealed=b"", sealed_with=0),
        make(ManualTask, k, assignee=superuser, created=NOW, due=TODAY),
    ]
    if apps.is_installed("gallra.incidents"):
        from gallra.incidents.models import Incident

        out.append(make(Incident, k, known_at=NOW - timedelta(hours=1), subjects_count=3))
    # What the admin's history pages and its index's recent actions list: str() of each.
    for record in out:
        LogEntry.objects.log_actions(
            superuser.pk, [record], CHANGE, change_message=PAYLOADS[k], single_object=True
        )
    return out


@pytest.fixture
def records(superuser) -> list[tuple[int, models.Model]]:
    """(k, record): every kind of record once with each payload."""
    return [(k, r) for k in range(len(PAYLOADS)) for r in one_of_each(k, superuser)]


class Scan(HTMLParser):
    """What in a page would run: on* attributes, javascript: URLs, script text."""

    def __init__(self, where: str) -> None:
        super().__init__(convert_charrefs=True)
        self.where, self.problems, self._script = where, [], False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on") and "alert(1)" in value:
                self.problems.append(f"{self.where}: <{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value.lower().startswith("javascript:"):
                self.problems.append(f"{self.where}: <{tag} {name}={value!r}>")
        self._script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = False

    def handle_data(self, data):
        if self._script and "alert(1)" in data:
            self.problems.append(f"{self.where}: <script>{data.strip()[:80]}")


class Pages:
    """Every page seen, checked as it comes."""

    def __init__(self, client) -> None:
        self.client, self.problems, self.seen = client, [], set()

    def check(self, where: str, text: str) -> None:
        self.problems += [f"{where}: raw {raw!r}" for raw in RAW if raw in text]
        scan = Scan(where)
        scan.feed(text)
        scan.close()
        self.problems += scan.problems
        self.seen |= {e for e in ESCAPED if e in text}

    def get(self, path: str) -> str:
        response = self.client.get(path)
        body = b"".join(response) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        if response.get("Content-Type", "").startswith("text/html"):
            self.check(f"GET {path}", text)
        return text if response.status_code == 200 else ""


def test_typed_text_is_escaped_on_every_page(client, superuser, records):
    client.force_login(superuser)
    pages = Pages(client)
    unrendered = []
    # Pages with no record in their path: the index, each app, the dashboard; public pages.
    for route, name, _ in every_pattern():
        skip = name in ("admin:logout", "admin:jsi18n") or route.startswith("api/")
        if admin_model(route) is None and not skip:
            for path in paths_of(route):
                pages.get(path)
    # Each model's list, its search, and each record's change, history and delete pages.
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        pages.get(changelist)
        if model_admin.search_fields:
            for term in (*PAYLOADS, "alert(1)"):
                pages.get(f"{changelist}?{urlencode({'q': term})}")
        ours = {r.pk: k for k, r in records if isinstance(r, model)}
        others = model._default_manager.exclude(pk__in=ours).values_list("pk", flat=True)[:2]
        for pk in [*ours, *others]:
            change = pages.get(reverse("admin:{}_{}_change".format(*info), args=[pk]))
            pages.get(reverse("admin:{}_{}_history".format(*info), args=[pk]))
            pages.get(reverse("admin:{}_{}_delete".format(*info), args=[pk]))
            if pk in ours and escape(PAYLOADS[ours[pk]]) not in change:
                unrendered.append(f"{model._meta.label} {pk}")
    # A login alert's button opens an incident whose title quotes the alert.
    if apps.is_installed("gallra.incidents"):
        for _k, alert in (x for x in records if isinstance(x[1], LoginAlert)):
            response = client.post(reverse("admin:logins_loginalert_incident", args=[alert.pk]))
            pages.get(response["Location"])
    # Each subject's export (index.html in the ZIP) and, after the erasure, its certificate.
    requests = [(k, r) for k, r in records if isinstance(r, SubjectRequest)]
    do = "admin:subjects_subjectrequest_do"
    # The buttons start jobs (gallra/background.py); this test is about what they write, so
    # each job is run here, in the test's transaction (test_admin.py runs them as a worker).
    for k, request in (x for x in requests if x[1].kind == "access"):
        assert client.post(reverse(do, args=[request.pk, "export"])).status_code == 302
        background.JOBS["subject_export"](request_id=request.pk, actor="t", lang="sv")
        response = client.post(reverse(do, args=[request.pk, "download"]))
        assert response["Content-Type"] == "application/zip", response.content[:300]
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            export = archive.read("index.html").decode()
        pages.check(f"the export of {request.pk}", export)
        assert escape(PAYLOADS[k]) in export
    for _k, request in (x for x in requests if x[1].kind == "erasure"):
        assert client.post(reverse(do, args=[request.pk, "erase"])).status_code == 302
        background.JOBS["subject_erasure"](request_id=request.pk, actor="t")
        request.refresh_from_db()
        assert request.status == SubjectRequest.Status.DONE
        response = client.post(reverse(do, args=[request.pk, "certificate"]))
        assert response.status_code == 200
        pages.check(f"the erasure certificate of {request.pk}", response.content.decode())
        pages.get(reverse("admin:subjects_subjectrequest_change", args=[request.pk]))

    assert not pages.problems, "\n".join(pages.problems)
    assert not unrendered, f"change pages that show none of their record's text: {unrendered}"
    assert pages.seen == set(ESCAPED), "the payloads were not rendered at all"


def test_every_payload_went_into_every_kind_of_record(records):
    """The test above proves something only if the records hold the payloads: each record
    its own, each field every payload in some record (unless too short to hold one, or an
    e-mail address, which takes those that make a valid one), and e-mail a valid one."""
    held: dict[tuple[str, models.Field], set[str]] = {}
    for k, record in records:
        fields = typed_fields(type(record))
        assert any(PAYLOADS[k] in getattr(record, f.attname) for f in fields), record
        for f in fields:
            found = {p for p in PAYLOADS if p in getattr(record, f.attname)}
            held.setdefault((type(record).__name__, f), set()).update(found)
    longest = max(map(len, PAYLOADS))
    missing = [
        f"{name}.{f.name}"
        for (name, f), found in held.items()
        if found != set(PAYLOADS)
        and (f.max_length or longest) >= longest
        and not isinstance(f, models.EmailField)
        and (name, f.name) != ("SubjectRequest", "ref")  # made by the system, not typed
    ]
    assert not missing
    assert ("Customer", "name") in {(n, f.name) for n, f in held}
    assert '"<script>alert(1)</script>"@example.se' in {
        r.email for _k, r in records if isinstance(r, registry.Person)
    }
