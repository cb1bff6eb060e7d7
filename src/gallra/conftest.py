"""Shared test set-up: every test runs with fresh keys, never a real key file; `smtp` is a
real SMTP server on loopback for tests of mail."""

import email
import email.policy
import os
import shutil
import socket

import pytest
from aiosmtpd.controller import Controller

from gallra import config


@pytest.fixture(autouse=True)
def gallra_keys(settings, tmp_path):
    content = config.new_key_file_content()
    key_file = tmp_path / "keys.json"
    key_file.write_text(__import__("json").dumps(content))
    settings.GALLRA_KEY_FILE = key_file
    settings.GALLRA_KEYS = config.load_keys(key_file)
    return settings.GALLRA_KEYS


class Inbox:
    """What a real SMTP server on loopback received: (recipients, subject, body) each."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        subject = " ".join(str(message["subject"]).split())
        self.messages.append((envelope.rcpt_tos, subject, message.get_content()))
        return "250 OK"


@pytest.fixture
def smtp(settings):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    yield inbox
    controller.stop()


STAFF_PASSWORD = "correct horse battery staple 42"  # noqa: S105 (a test's own)


@pytest.fixture
def staff_member(db):
    """make(username, role) -> a staff user in the policy's role, password STAFF_PASSWORD,
    no second factor (tests of the login enrol their own)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from gallra.policy.loading import current_policy
    from gallra.staff import roles

    roles.sync(current_policy())

    def make(username: str, role: str, *, superuser: bool = False):
        users = get_user_model().objects
        user = users.create_user(
            username,
            password=STAFF_PASSWORD,
            is_staff=True,
            is_superuser=superuser,
        )
        user.groups.set([Group.objects.get(name=role)])
        return user

    return make


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "chromium is not installed: run scripts/setup.sh (it installs Debian's chromium)"
        )
    return path


@pytest.fixture(scope="module")
def browser():
    """Real headless Chromium (Debian's package, which the test command installs), driven by
    Playwright against gallra's own live server; no browser is downloaded."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the tests' own ORM
    # queries are plain synchronous code all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()
