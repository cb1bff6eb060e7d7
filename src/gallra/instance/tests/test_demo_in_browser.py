"""The first hour is green (issue 18): after `gallra init` and `gallra demo`, the front page
that `gallra serve` shows the admin has every daily check passed, none red or waiting.

Runs the real commands in a throwaway data directory (conftest.py), then Debian's Chromium
driven by Playwright, as the consent banner's browser tests do. `gallra serve` runs with its
daily jobs off, so that the page shows what the demo did and nothing the server did after it
(at any hour of the day); `gallra check`, in a process of its own, reads the same settings.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from gallra.instance.tests.conftest import log_in, printed_password, serving

# The daily checks of the front page (dashboard/panels.py, runs()), in English.
CHECKS = [
    "Deletion (enforce)",
    "Restore drill (backup verify)",
    "Backup",
    "Where the data is (gallra check)",
    "Evidence log intact (evidence verify)",
    "Outgoing mail (outbox)",
]


@pytest.fixture
def served(gallra, tmp_path):
    gallra.env["LANGUAGE"] = "en"  # the commands speak English, whatever this machine's locale
    init = gallra.run("init")
    password = printed_password(init.stdout)
    secret = re.search(r"two-factor secret: ([A-Z2-7]+)", init.stdout).group(1)
    started = time.monotonic()
    demo = gallra.run("demo")
    assert time.monotonic() - started < 60, "the demo must stay quick"
    assert "Every daily check on the front page is green." in demo.stdout
    # Its daily jobs off: they would hide what the demo did.
    with serving(gallra, tmp_path / "serve.log", GALLRA_ENFORCE_TIME="off") as (base, _log):
        yield base, password, secret


def test_after_the_demo_every_daily_check_on_the_front_page_is_green(served, browser, gallra):
    base, password, secret = served
    # What the demo declared, as a provider would, in the data directory's own settings;
    # the backup repository's password in a file of its own, readable by gallra only.
    settings = gallra.data / "env"
    key = gallra.data / "backup-password"
    assert "GALLRA_SERVER_COUNTRY=SE" in settings.read_text()
    assert f"GALLRA_BACKUP_PASSWORD_FILE={key}" in settings.read_text()
    assert key.stat().st_mode & 0o777 == 0o600 and settings.stat().st_mode & 0o777 == 0o600
    assert (gallra.data / "backups" / "config").is_file()  # a restic repository
    again = json.loads(gallra.run("demo", "--format", "json").stdout)  # quick: done today
    assert [s["step"] for s in again["first_day"] if s["problem"]] == []
    assert gallra.run("check").returncode == 0  # `gallra check` agrees

    context = browser.new_context(locale="en-GB")  # the checks' English labels
    page = context.new_page()
    log_in(page, base, "admin", password, secret)

    panel = page.locator("#dashboard-runs")
    rows = panel.locator("tbody tr")
    shown = {
        rows.nth(i).locator("th").inner_text().strip(): (
            rows.nth(i).locator("td").nth(1).get_attribute("class"),
            " ".join(rows.nth(i).locator("td").nth(1).inner_text().split()),
        )
        for i in range(rows.count())
    }
    assert sorted(shown) == sorted(CHECKS), shown
    not_green = {label: why for label, (state, why) in shown.items() if state != "dashboard-ok"}
    assert not not_green, not_green
    # No red and no amber anywhere among the checks, the deletion chart and the breaches.
    for section in ("#dashboard-runs", "#dashboard-deletions", "#dashboard-incidents"):
        assert (
            page.locator(f"{section} .dashboard-failed, {section} .dashboard-waiting").count() == 0
        )
    context.close()
