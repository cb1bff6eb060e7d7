"""The cookie banner in a real browser, on the demo page gallra serves: nothing optional runs
before consent, exactly the accepted categories run after, withdrawal and GPC work, the
keyboard alone is enough, and every decision is stored as proof."""

from __future__ import annotations

import json
import time

import pytest

from gallra.consent import demo
from gallra.consent.models import ConsentDecision

pytestmark = pytest.mark.django_db(transaction=True)

OPTIONAL = {"third_party_functions", "social_sharing", "statistics"}


@pytest.fixture(autouse=True)
def clean_log():
    demo.hits.clear()
    yield
    demo.hits.clear()


def open_demo(page, live_server, lang="sv"):
    requested = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(f"{live_server.url}/consent/demo/" + ("?lang=en" if lang == "en" else ""))
    return requested


def banner(page):
    return page.get_by_role("dialog")


def demo_state(page) -> dict:
    return page.evaluate("window.gallraDemo")


def optional_loaded(requested) -> list[str]:
    return [u for u in requested if "/consent/demo/script/" in u or "/consent/demo/video/" in u]


def test_nothing_optional_runs_or_loads_before_consent(page, live_server):
    requested = open_demo(page, live_server)
    dialog = banner(page)
    dialog.wait_for()
    assert "Vi använder kakor" in dialog.inner_text()
    for name in ("Besöksstatistik", "Sociala medier", "Tredjepartsfunktioner"):
        assert name.lower() in dialog.inner_text().lower()  # categories named on the first layer
    assert "återkalla" in dialog.inner_text()  # and the right to withdraw
    page.wait_for_timeout(300)
    assert demo_state(page) == {}
    assert page.locator("iframe").get_attribute("src") is None
    assert optional_loaded(requested) == []
    assert demo.hits == {}  # the server's own log agrees
    assert not ConsentDecision.objects.exists()


def test_accepting_one_category_runs_exactly_its_scripts(page, live_server):
    requested = open_demo(page, live_server)
    page.get_by_role("button", name="Välj själv").click()
    page.get_by_role("checkbox", name="Besöksstatistik").check()
    with stored(page):
        page.get_by_role("button", name="Spara mina val").click()
    page.wait_for_function("window.gallraDemo.statistics === 1")
    assert demo_state(page) == {"statistics": 1, "inlineStatistics": True}
    assert page.locator("iframe").get_attribute("src") is None
    assert [u.rsplit("/", 1)[1] for u in optional_loaded(requested)] == ["statistics.js"]
    assert dict(demo.hits) == {"statistics": 1}
    assert banner(page).count() == 0
    (decision,) = ConsentDecision.objects.all()
    assert decision.action == "custom"
    assert decision.categories == {
        "statistics": True,
        "social_sharing": False,
        "third_party_functions": False,
    }
    assert decision.services == {"youtube": False}
    cookie = next(c for c in page.context.cookies() if c["name"] == "gallra_consent")
    assert json.loads(__import__("urllib.parse").parse.unquote(cookie["value"]))["id"] == (
        decision.consent_id
    )  # the visitor keeps the id that the proof is filed under
    # The choice holds on the next page: statistics run without asking again.
    page.reload()
    page.wait_for_function("window.gallraDemo.statistics === 1")
    assert banner(page).count() == 0


def test_reject_all_runs_nothing_now_or_later(page, live_server):
    requested = open_demo(page, live_server)
    with stored(page):
        page.get_by_role("button", name="Avvisa alla").click()
    page.reload()
    page.wait_for_timeout(300)
    assert demo_state(page) == {} and optional_loaded(requested) == [] and demo.hits == {}
    assert banner(page).count() == 0
    (decision,) = ConsentDecision.objects.all()
    assert decision.action == "reject_all" and not any(decision.categories.values())


def test_accept_all_then_withdraw_from_the_reopened_settings(page, live_server):
    open_demo(page, live_server)
    with stored(page):
        page.get_by_role("button", name="Acceptera alla").click()
    page.wait_for_function("window.gallraDemo.statistics === 1 && window.gallraDemo.social === 1")
    page.wait_for_function("document.querySelector('iframe').src.endsWith('/consent/demo/video/')")
    assert "_pk_id.1.d3m0" in {c["name"] for c in page.context.cookies()}

    page.get_by_role("button", name="Kakinställningar").click()
    assert page.get_by_role(
        "checkbox", name="Besöksstatistik"
    ).is_checked()  # the current choice is shown
    page.get_by_role("checkbox", name="Besöksstatistik").uncheck()
    with page.expect_navigation():  # withdrawal reloads, so nothing withdrawn keeps running
        page.get_by_role("button", name="Spara mina val").click()
    page.wait_for_function("window.gallraDemo.social === 1")
    assert "statistics" not in demo_state(page)
    assert "_pk_id.1.d3m0" not in {c["name"] for c in page.context.cookies()}  # deleted
    # The page reloaded before the answer to its post (no response to wait for): the rows.
    deadline = time.monotonic() + 10
    while ConsentDecision.objects.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    actions = list(ConsentDecision.objects.order_by("id").values_list("action", "categories"))
    assert actions[0] == ("accept_all", dict.fromkeys(OPTIONAL, True))
    assert actions[1] == (
        "withdraw",
        {"statistics": False, "social_sharing": True, "third_party_functions": True},
    )
    ids = set(ConsentDecision.objects.values_list("consent_id", flat=True))
    assert len(ids) == 1  # one visitor, one consent id across decisions


def test_global_privacy_control_refuses_everything_optional_without_asking(browser, live_server):
    context = browser.new_context(bypass_csp=True)  # see the context fixture
    context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    page = context.new_page()
    with stored(page):
        requested = open_demo(page, live_server)
    page.wait_for_function("document.cookie.includes('gallra_consent')")
    assert banner(page).count() == 0
    assert demo_state(page) == {} and optional_loaded(requested) == []
    (decision,) = ConsentDecision.objects.all()
    assert decision.action == "gpc" and not any(decision.categories.values())
    context.close()


def test_escape_and_closing_record_nothing(page, live_server):
    open_demo(page, live_server)
    banner(page).wait_for()
    page.keyboard.press("Escape")
    assert banner(page).count() == 0
    page.reload()
    banner(page).wait_for()  # asked again: nothing was recorded
    assert not ConsentDecision.objects.exists()
    assert "gallra_consent" not in {c["name"] for c in page.context.cookies()}


def stored(page):
    """Wait until the decision's POST is answered: the row is committed before the answer
    (the page itself goes on at once, so its state says nothing about the row)."""
    return page.expect_response(
        lambda r: r.url.endswith("/consent/decisions") and r.request.method == "POST"
    )


def test_the_banner_works_by_keyboard_alone(page, live_server):
    open_demo(page, live_server)
    banner(page).wait_for()
    focused = page.evaluate("document.activeElement.id")
    assert focused == "gc-title"  # focus moves into the banner, to its heading
    seen = []
    for _ in range(6):
        page.keyboard.press("Tab")
        seen.append(page.evaluate("document.activeElement.textContent"))
        if seen[-1] == "Välj själv":
            break
    assert seen[-3:] == ["Acceptera alla", "Avvisa alla", "Välj själv"]
    page.keyboard.press("Enter")  # the settings layer; focus on its first choice
    assert page.evaluate("document.activeElement.id") == "gc-c-third_party_functions"
    page.keyboard.press("Space")
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Spara mina val":
            break
    # Whatever has focus is never hidden behind the banner.
    assert page.evaluate("""() => {
        const r = document.activeElement.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;
    }""")
    with stored(page):
        page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('iframe').src !== ''")
    (decision,) = ConsentDecision.objects.all()
    assert decision.categories["third_party_functions"] is True
    assert decision.services == {"youtube": True}


def test_the_banner_follows_the_page_language(page, live_server):
    open_demo(page, live_server, lang="en")
    dialog = banner(page)
    dialog.wait_for()
    assert "We use cookies" in dialog.inner_text()
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_timeout(200)
    assert ConsentDecision.objects.get().locale == "en"


def test_equal_buttons_on_the_first_layer(page, live_server):
    open_demo(page, live_server)
    banner(page).wait_for()
    styles = page.evaluate("""() => [...document.querySelectorAll('.gc-l1 button')].map(b => {
        const s = getComputedStyle(b), r = b.getBoundingClientRect();
        return [s.fontSize, s.fontWeight, s.color, s.backgroundColor, s.borderColor,
                Math.round(r.height)];
    })""")
    assert len(styles) == 3 and all(s == styles[0] for s in styles)
