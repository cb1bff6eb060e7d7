"""Shared test set-up: every test runs with fresh keys, never a real key file; `smtp` is a
real SMTP server on loopback for tests of mail."""

import email
import email.policy
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
