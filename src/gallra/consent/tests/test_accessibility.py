"""axe-core (from the npm registry, installed by the test command) in real Chromium: no
serious or critical violation on the banner, the notice, the privacy centre or the contact
form."""

from __future__ import annotations

from pathlib import Path

import pytest

import gallra

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(gallra.__file__).resolve().parents[2] / ".venv" / "npm" / "node_modules" / "axe-core"


def violations(page, selector: str | None = None) -> list[str]:
    if not (AXE / "axe.min.js").exists():
        pytest.fail(f"axe-core is not installed in {AXE}: run scripts/setup.sh --tests")
    page.add_script_tag(path=str(AXE / "axe.min.js"))
    result = page.evaluate(
        "async (sel) => await axe.run(sel ? document.querySelector(sel) : document)", selector
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_the_banner_both_layers(page, live_server, lang):
    page.goto(f"{live_server.url}/consent/demo/?lang={lang}")
    page.get_by_role("dialog").wait_for()
    assert violations(page) == []
    page.locator(".gc-l1 button").nth(2).click()  # the settings layer
    assert violations(page) == []


@pytest.mark.parametrize(
    "path",
    [
        "/privacy/",
        "/privacy/?lang=en",
        "/privacy/centre/",
        "/contact/",
        "/subject/verify/not-a-token/",
    ],
)
def test_the_public_pages(page, live_server, path):
    page.goto(live_server.url + path)
    assert violations(page) == []


def test_the_check_finds_a_violation_when_there_is_one(page):
    page.set_content('<html lang="sv"><title>t</title><main><input></main></html>')
    assert any(v.startswith("label") for v in violations(page))
