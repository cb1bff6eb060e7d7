"""The back office in a real browser (P8, P22): staff log in through the real form with their
one-time code; a technician is refused the customer register, with the refusal on record and
nothing of the customer on the page; the CEO sees it, and the look is on record; the front
page charts what retention deletes in the coming days, as the planner decides it; and no page
trips the Content-Security-Policy. Debian's chromium, driven by Playwright, against gallra's
own live server, with the JufCorp demo data."""

from __future__ import annotations

import re
import struct
import zlib
from collections import Counter
from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from gallra.conftest import STAFF_PASSWORD
from gallra.evidence.models import Entry
from gallra.instance.demo import build
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Customer
from gallra.retention.planner import plan
from gallra.staff import accounts, totp

pytestmark = pytest.mark.django_db(transaction=True)

WINDOW = 30  # the chart: today and the 30 days after it


class BackOffice:
    """A Swedish browser tab that notes every Content-Security-Policy violation it reports."""

    def __init__(self, browser, live_server):
        self.context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
        self.tab = self.context.new_page()
        # The front page counts the coming deletions: on PostgreSQL that takes seconds.
        self.tab.set_default_timeout(30_000)
        self.base = live_server.url
        self.csp_errors: list[str] = []
        self.tab.on("console", self._console)

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.csp_errors.append(f"{self.tab.url}: {message.text}")

    def go(self, path: str):
        return self.tab.goto(self.base + path)

    def log_in(self, username: str, code: str) -> None:
        """Type the three fields of the login form, as a person does, and send it."""
        self.go("/admin/login/")
        self.tab.locator("#id_username").press_sequentially(username)
        self.tab.locator("#id_password").press_sequentially(STAFF_PASSWORD)
        self.tab.locator("#id_code").press_sequentially(code)
        with self.tab.expect_navigation():
            self.tab.locator("#login-form [type=submit]").click()


@pytest.fixture
def browse(browser, live_server):
    pages = []

    def open_page() -> BackOffice:
        pages.append(BackOffice(browser, live_server))
        return pages[-1]

    yield open_page
    for page in pages:
        page.context.close()


@pytest.fixture
def today() -> date:
    return timezone.localdate()  # the day the front page counts from


@pytest.fixture
def demo(today):
    import_document(build(today))


@pytest.fixture
def customer(demo) -> Customer:
    """A demo customer with people who have e-mail addresses."""
    return Customer.objects.filter(people__email__contains="@").order_by("ref").first()


def enrolled(user) -> str:
    """The user's current one-time code, as their authenticator app shows it."""
    secret = accounts.enrol(user, actor="test")
    return totp.code_at(secret, totp.now_step())


def personal_data(customer: Customer) -> list[str]:
    out = [customer.name]
    for person in customer.people.all():
        out += [f"{person.first_name} {person.last_name}", person.last_name, person.email]
        out += [person.mobile] if person.mobile else []
    return out


def shown(html: str, value: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", html) is not None


def swedish(msgid: str) -> str:
    with translation.override("sv"):
        return translation.gettext(msgid)


def in_swedish(msgid: str) -> str:
    """The Swedish text of `msgid`: a page still in English fails here, not silently."""
    text = swedish(msgid)
    assert text != msgid, f"no Swedish for {msgid!r} in locale/sv/LC_MESSAGES/django.po"
    return text


def entries(action: str, actor: str) -> list[Entry]:
    return list(Entry.objects.filter(action=action, actor=actor).order_by("seq"))


def test_a_technician_is_refused_the_customer_register_and_it_is_recorded(
    browse, staff_member, customer
):
    page = browse()
    page.log_in("tekniker", enrolled(staff_member("tekniker", "technician")))
    assert page.tab.url == f"{page.base}/admin/"
    page.tab.locator("#gallra-dashboard").wait_for()  # the front page is the dashboard
    front = page.tab.content()
    assert not [v for v in personal_data(customer) if shown(front, v)]

    response = page.go(f"/admin/registry/customer/{customer.pk}/change/")
    assert response.status == 403
    html = page.tab.content()
    assert page.tab.locator("html").get_attribute("lang") == "sv"
    assert page.tab.locator("h1").inner_text() == in_swedish("Not allowed")
    assert [v for v in personal_data(customer) if shown(html, v)] == []
    (refused,) = entries("personal_data_refused", "tekniker")
    assert refused.refs == [customer.ref] and refused.record_type == "customer"
    assert refused.customers == f"|{customer.ref}|"
    # The evidence names the record, never what is in it.
    assert not [v for v in personal_data(customer) if v in str(refused.data)]

    response = page.go("/admin/registry/customer/")
    assert response.status == 403
    assert page.tab.locator("h1").inner_text() == in_swedish("Not allowed")
    html = page.tab.content()
    everyone = [v for c in Customer.objects.prefetch_related("people") for v in personal_data(c)]
    assert [v for v in everyone if shown(html, v)] == []
    _, listed = entries("personal_data_refused", "tekniker")
    assert listed.record_type == "customer" and listed.data["path"] == "/admin/registry/customer/"
    assert listed.refs == []  # a list refused before any row was read names no record
    assert not entries("personal_data_viewed", "tekniker")
    assert page.csp_errors == []


def test_the_ceo_sees_the_customer_and_the_look_is_recorded(browse, staff_member, customer):
    page = browse()
    page.log_in("vd", enrolled(staff_member("vd", "ceo")))
    assert page.tab.url == f"{page.base}/admin/"

    response = page.go(f"/admin/registry/customer/{customer.pk}/change/")
    assert response.status == 200
    person = customer.people.exclude(email="").order_by("ref").first()
    name = page.tab.locator("#id_name")
    assert name.is_visible() and name.input_value() == customer.name
    emails = page.tab.locator("input[id^=id_people-][id$=-email]")
    (shown_email,) = [e for e in emails.all() if e.input_value() == person.email]
    assert shown_email.is_visible()
    (viewed,) = entries("personal_data_viewed", "vd")
    assert viewed.refs == [customer.ref] and viewed.customers == f"|{customer.ref}|"
    assert not entries("personal_data_refused", "vd")
    assert page.csp_errors == []


def test_a_wrong_code_is_refused(browse, staff_member):
    secret = accounts.enrol(staff_member("vd", "ceo"), actor="test")
    valid = {totp.code_at(secret, totp.now_step() + k) for k in range(-2, 3)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    page = browse()
    page.log_in("vd", wrong)
    assert page.tab.url.startswith(f"{page.base}/admin/login/")
    error = page.tab.locator(".errornote")
    assert error.is_visible()
    assert error.inner_text() == swedish("Wrong username, password or one-time code.")
    page.go("/admin/")  # and no session came of it
    assert page.tab.url.startswith(f"{page.base}/admin/login/")
    assert page.csp_errors == []


# -- the chart of the coming deletions ---------------------------------------------------------


def planned_deletions(today: date) -> Counter:
    """(day, rule) -> records the planner deletes that day and not the day before: what a
    daily `enforce` deletes on each day of the window (today: all that is due already)."""
    policy = current_policy()
    out: Counter = Counter()
    before: set = set()
    for k in range(WINDOW + 1):
        day = today + timedelta(days=k)
        going = {(d.record_type, d.ref): d.rule for d in plan(policy, day) if d.action == "delete"}
        for key, rule in going.items():
            if key not in before:
                out[(day, rule)] += 1
        before = set(going)
    return out


def bar_counts(titles: list[str], rules: list[str]) -> Counter:
    """(day, rule) -> count, read from the bars' tooltips ("2026-12-01, rule: 3 records …")."""
    out: Counter = Counter()
    for title in titles:
        (day,) = re.findall(r"\d{4}-\d{2}-\d{2}", title)
        (rule,) = [r for r in rules if r in title]
        rest = title.replace(day, "").replace(rule, "").replace("\xa0", "").replace(" ", "")
        out[(date.fromisoformat(day), rule)] += int(re.search(r"\d+", rest).group())
    return out


def png_pixels(png: bytes) -> list[tuple[int, int, int]]:
    """The RGB pixels of an 8-bit, non-interlaced RGB or RGBA PNG (a Chromium screenshot)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, data = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        body = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            data += body
        pos += 12 + length
    assert depth == 8 and colour in (2, 6) and interlace == 0
    size = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(data), width * size
    pixels, above = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            a = line[i - size] if i >= size else 0
            b = above[i]
            c = above[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                nearest = min((abs(p - a), 0, a), (abs(p - b), 1, b), (abs(p - c), 2, c))[2]
                line[i] = (line[i] + nearest) & 0xFF
        pixels += [tuple(line[x : x + 3]) for x in range(0, stride, size)]
        above = line
    return pixels


def rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))


def test_the_front_page_charts_the_deletions_the_planner_decides(browse, staff_member, demo, today):
    page = browse()
    page.log_in("vd", enrolled(staff_member("vd", "ceo")))
    assert page.tab.url == f"{page.base}/admin/"
    chart = page.tab.locator("#dashboard-deletions svg")
    chart.wait_for()
    assert chart.is_visible()

    bars = chart.locator("rect:has(title)")
    found = bars.evaluate_all("""rects => rects.map(r => ({
        height: r.getBBox().height, fill: r.getAttribute('fill'),
        title: r.querySelector('title').textContent}))""")
    assert any(b["height"] > 0 for b in found)
    rules = [r.id for r in current_policy().rule]
    expected = planned_deletions(today)
    assert expected  # the demo data has deletions in the window
    assert bar_counts([b["title"] for b in found], rules) == expected
    # Each rule keeps its colour on every bar, and the legend says how many in all.
    colour = {}
    for bar in found:
        (rule,) = [r for r in rules if r in bar["title"]]
        assert colour.setdefault(rule, bar["fill"]) == bar["fill"]
    assert len(set(colour.values())) == len(colour)
    legend = chart.locator(".dashboard-legend text").all_text_contents()
    for rule in colour:
        total = sum(n for (_, r), n in expected.items() if r == rule)
        assert [t for t in legend if re.match(rf"{re.escape(rule)}\D+{total}\D", t)], legend

    # What the eye sees: a drawn chart, not a blank box, with the first rule's colour in it.
    pixels = png_pixels(chart.screenshot())
    background, _ = Counter(pixels).most_common(1)[0]
    drawn = sum(p != background for p in pixels)
    assert drawn > len(pixels) // 50, (drawn, len(pixels))  # the demo's chart: about 1 in 18
    first_fill = rgb(found[0]["fill"])
    assert first_fill in set(pixels)
    assert page.csp_errors == []
