"""Pages in the browser (`browser` is in the root conftest), with the test tools injected."""

from __future__ import annotations

import pytest


@pytest.fixture
def context(browser):
    # The test's own tools (axe-core, wait_for_function) run as injected inline script and
    # eval, which gallra's Content-Security-Policy refuses; the policy itself is tested in
    # staff/tests (headers) and in the back-office browser test (no violations).
    context = browser.new_context(bypass_csp=True)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(10_000)
    return page


@pytest.fixture(autouse=True)
def release_writer():
    """The group-commit writer keeps its own connection; give it back after each test, so
    that the test database can be flushed and dropped."""
    yield
    from gallra.consent.writer import writer

    writer.release()


@pytest.fixture(autouse=True)
def client_counts(settings):
    """Each test starts with no client counted, under the default limits."""
    from gallra.consent.limits import clients

    settings.GALLRA_CONSENT_RATE = (60, 1000)
    clients.clear()
    yield clients
    clients.clear()
