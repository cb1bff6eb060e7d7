"""The public forms against a curious stranger, a hostile visitor and a failing relay
(issue 16, items 3-5).

* Item 3: the privacy centre answers the same bytes for a known and an unknown address,
  with the relay up and down, and no thread that answers a request talks SMTP; the mail
  waits in the outbox, is retried, raises an alert, and goes out once.
* Item 4: control characters in a single-line field are refused with a field error (400).
* Item 5: a form's time stamp is good for one post; request refs are random.

The relay is the real SMTP server on loopback (`smtp`); "down" is a port nothing listens on.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import smtplib
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, timedelta

import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import signing
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.core.signals import request_finished, request_started
from django.db import connection
from django.test import Client
from django.utils import timezone

from gallra.api.models import ApiToken
from gallra.conftest import Inbox
from gallra.contact import guard
from gallra.contact.models import UsedFormToken
from gallra.dashboard import panels
from gallra.evidence.models import Entry
from gallra.instance.tests.conftest import Gallra
from gallra.outbox import delivery
from gallra.outbox import mail as outbox
from gallra.outbox.models import Mail
from gallra.subjects import cases
from gallra.subjects.identity import Identity
from gallra.subjects.models import SubjectRequest, VerificationLink
from gallra.subjects.tests.conftest import ANNA

CENTRE, CONTACT = "/privacy/centre/", "/contact/"
# On record nowhere; as long as Anna's address, so that a refused form, which shows the
# address typed, is as long for both (Content-Length).
UNKNOWN = "anna.berg@kund.exempel"


@pytest.fixture(autouse=True)
def forms(settings):
    cache.clear()
    settings.GALLRA_FORM_MIN_SECONDS = 0
    settings.GALLRA_FORM_RATE = (1000, 600)  # the flood limit has its own test (test_contact_form)
    settings.GALLRA_CONTACT_TO = "info@redcloud.example"
    settings.GALLRA_BASE_URL = "https://gallra.redcloud.example"
    yield
    cache.clear()


def closed_port() -> int:
    """A loopback port nothing listens on: a relay that is down (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Connects:
    """Every SMTP connection attempt: the thread's name, and whether that thread was
    answering a web request at the time (between request_started and request_finished)."""

    def __init__(self) -> None:
        self.answering: set[int] = set()
        self.seen: list[tuple[str, bool]] = []

    def started(self, **kwargs) -> None:
        self.answering.add(threading.get_ident())

    def finished(self, **kwargs) -> None:
        self.answering.discard(threading.get_ident())


@pytest.fixture
def connects(monkeypatch):
    spy = Connects()
    real = smtplib.SMTP.connect

    def connect(self, *args, **kwargs):  # records, then connects for real
        spy.seen.append((threading.current_thread().name, threading.get_ident() in spy.answering))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)
    request_started.connect(spy.started)
    request_finished.connect(spy.finished)
    yield spy
    request_started.disconnect(spy.started)
    request_finished.disconnect(spy.finished)


def form_token(client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    return re.search(r'name="t" value="([^"]+)"', page.text).group(1)


def post_centre(client, email: str, **changes):
    data = {
        "kind": "access",
        "email": email,
        "name": "",
        "details": "",
        "t": form_token(client, CENTRE),
        "website": "",
    } | changes
    return client.post(CENTRE, data)


def post_contact(client, **changes):
    data = {
        "name": "Erik Nilsson",
        "email": "erik@nilssons-bygg.example",
        "message": "Hej! Jag vill ha en offert.",
        "t": form_token(client, CONTACT),
        "website": "",
    } | changes
    return client.post(CONTACT, data)


# -- item 3: the same answer, whatever the address and whatever the relay does --------------


PER_REQUEST = [
    r"'nonce-([^']+)'",  # the Content-Security-Policy header's script nonce
    r'name="csrfmiddlewaretoken" value="([^"]+)"',  # Django's CSRF token
    r'name="t" value="([^"]+)"',  # the form's one-time time stamp
    r"(DSR-\d{4}-[0-9A-Z]{8})",  # the new request's own reference
]


def without_per_request_values(response, echoed: str = "") -> bytes:
    """Status, headers and body as bytes, each per-request value replaced. Each occurs once,
    so when what remains is equal, these were the only places two answers differed.
    `echoed`: what the visitor typed, shown back in a refused form."""
    headers = "".join(f"{name}: {value}\n" for name, value in sorted(response.items()))
    text = f"{response.status_code}\n{headers}\n{response.content.decode()}"
    if echoed:
        assert text.count(f'value="{echoed}"') == 1
        text = text.replace(f'value="{echoed}"', 'value="[what they typed]"')
    for pattern in PER_REQUEST:
        found = re.findall(pattern, text)
        assert len(found) <= 1, pattern
        for value in found:
            assert text.count(value) == 1
            text = text.replace(value, "[per request]")
    return text.encode()


def test_the_centre_answers_the_same_bytes_for_known_and_unknown_relay_up_and_down(
    client, smtp, registry, settings, connects
):
    assert len(UNKNOWN) == len(ANNA["email"])
    answers, refused = {}, {}
    for relay, port in (("up", settings.EMAIL_PORT), ("down", closed_port())):
        settings.EMAIL_PORT = port
        for who, address in (("known", ANNA["email"]), ("unknown", UNKNOWN)):
            response = post_centre(client, address)
            case = SubjectRequest.objects.latest("pk")
            assert response.status_code == 200 and case.ref in response.text
            answers[relay, who] = without_per_request_values(response)
            bad = post_centre(client, address, details="x" * 2001)  # refused: a field error
            assert bad.status_code == 400
            refused[relay, who] = without_per_request_values(bad, echoed=address)
    assert len(set(answers.values())) == 1, "the answers differ"
    assert len(set(refused.values())) == 1, "the refusals differ"
    assert answers["up", "known"].count(b"[per request]") == 2  # the CSP nonce, the ref
    assert refused["up", "known"].count(b"[per request]") == 3  # nonce, CSRF, time stamp
    assert connects.seen == []  # nothing talked to the relay while answering
    assert Mail.objects.count() == 4 and SubjectRequest.objects.count() == 4


def live_post(base: str, path: str, fields: dict) -> int:
    """GET the form, then POST it with its CSRF cookie and tokens, over real HTTP (loopback)."""
    with urllib.request.urlopen(base + path) as page:  # noqa: S310 (the live server's http URL)
        html = page.read().decode()
        cookie = page.headers["Set-Cookie"].split(";")[0]
    tokens = {
        name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1)
        for name in ("csrfmiddlewaretoken", "t")
    }
    data = urllib.parse.urlencode(fields | tokens | {"website": ""}).encode()
    headers = {"Cookie": cookie, "Referer": base + path}
    request = urllib.request.Request(base + path, data, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request) as answer:  # noqa: S310
        return answer.status


@pytest.mark.django_db(transaction=True)
def test_no_request_thread_talks_smtp_the_mail_thread_does(live_server, smtp, registry, connects):
    # The mail thread `gallra serve` runs. On PostgreSQL it runs while the requests are
    # answered, as in `gallra serve`; SQLite's in-memory test database locks whole tables
    # against other threads, so there it starts after the answers. The spy sees every
    # connection either way.
    early = connection.vendor != "sqlite"
    mailer = delivery.start_thread(every=0.05) if early else None
    try:
        for address in (ANNA["email"], UNKNOWN):
            fields = {"kind": "erasure", "email": address, "name": "", "details": ""}
            assert live_post(live_server.url, CENTRE, fields) == 200
        mailer = mailer or delivery.start_thread(every=0.05)
        for _ in range(400):  # wait (up to 20 s) for the mail thread to empty the outbox
            if smtp.messages and not (early and Mail.objects.exists()):
                break
            time.sleep(0.05)
    finally:
        if mailer is not None:
            mailer.stop.set()
            mailer.join(10)  # the run under way finishes
    assert not Mail.objects.exists()
    ((to, subject, body),) = smtp.messages  # the known address only
    assert to == [ANNA["email"]] and "/subject/verify/" in body
    assert connects.seen and all(name == "gallra-mail" for name, _ in connects.seen)
    assert not any(answering for _, answering in connects.seen)


def test_the_link_goes_out_with_gallra_outbox_send_for_a_known_address_only(client, smtp, registry):
    assert post_centre(client, ANNA["email"]).status_code == 200
    known = SubjectRequest.objects.latest("pk")
    assert post_centre(client, UNKNOWN).status_code == 200
    unknown = SubjectRequest.objects.latest("pk")
    assert smtp.messages == [] and Mail.objects.count() == 2
    assert not VerificationLink.objects.exists()  # nothing looked up or made yet

    call_command("outbox", "send")
    ((to, subject, body),) = smtp.messages
    assert to == [ANNA["email"]] and known.ref in subject
    assert not Mail.objects.exists()  # delivered, or nothing to deliver: gone
    assert VerificationLink.objects.filter(request=known).count() == 1
    assert not VerificationLink.objects.filter(request=unknown).exists()
    assert Entry.objects.filter(action="subject.link_sent", refs=[known.ref]).count() == 1
    assert Entry.objects.filter(action="subject.link_not_sent", refs=[unknown.ref]).count() == 1

    path = re.search(r"https://gallra\.redcloud\.example(/subject/verify/\S+/)", body).group(1)
    assert client.post(path).status_code == 200
    known.refresh_from_db()
    assert known.is_verified
    call_command("outbox", "send")
    assert len(smtp.messages) == 1  # nothing twice


def test_a_down_relay_keeps_the_mail_retries_alerts_and_delivers_once_back(
    client, smtp, registry, settings, connects
):
    up = settings.EMAIL_PORT
    settings.EMAIL_PORT = closed_port()
    assert post_centre(client, ANNA["email"]).status_code == 200
    case = SubjectRequest.objects.latest("pk")
    t0 = Mail.objects.get().queued
    minute = timedelta(minutes=1)

    first = delivery.deliver(now=t0)
    assert (first.sent, first.failed) == (0, 1) and "ConnectionRefusedError" in first.errors[0]
    mail = Mail.objects.get()
    assert mail.composed and mail.attempts == 1 and mail.next_attempt == t0 + minute
    assert VerificationLink.objects.filter(request=case).count() == 1  # composed once

    tries = len(connects.seen)
    delivery.deliver(now=t0 + 30 * timedelta(seconds=1))  # not due yet: no attempt
    assert len(connects.seen) == tries
    for attempt, at in ((2, 1), (3, 3), (4, 7)):  # it waits 1, 2, 4 minutes
        delivery.deliver(now=t0 + at * minute)
        assert Mail.objects.get().attempts == attempt
    assert Mail.objects.get().next_attempt == t0 + 15 * minute
    assert not delivery.status(t0 + 14 * minute).failing
    assert not Entry.objects.filter(action="mail.relay_failing").exists()

    late = t0 + 15 * minute  # the fifth attempt, a quarter of an hour on: the relay stays down
    delivery.deliver(now=late)
    delivery.deliver(now=late)
    assert Entry.objects.filter(action="mail.relay_failing").count() == 1  # once
    assert delivery.status(late).failing
    line = panels._outbox(late)
    assert line.state == "failed" and line.problems[0].startswith("1 ")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check", stdout=out)
    assert "FAIL  outgoing mail: 1 mail waiting" in out.getvalue()
    out = io.StringIO()
    with pytest.raises(CommandError) as failing:
        call_command("outbox", "send", "--format", "json", stdout=out)
    assert failing.value.returncode == 1 and json.loads(out.getvalue())["failing"] is True
    assert smtp.messages == [] and VerificationLink.objects.count() == 1

    settings.EMAIL_PORT = up  # the relay is back
    done = delivery.deliver(now=t0 + 31 * minute)  # the sixth attempt: 16 minutes on
    assert done.sent == 1 and not Mail.objects.exists()
    assert Entry.objects.filter(action="mail.relay_back").count() == 1
    delivery.deliver(now=t0 + 60 * minute)
    ((to, subject, _body),) = smtp.messages  # exactly once
    assert to == [ANNA["email"]] and case.ref in subject
    assert VerificationLink.objects.filter(request=case).count() == 1
    assert panels._outbox(t0 + 60 * minute).state == "ok"
    assert not any(answering for _, answering in connects.seen)


def test_after_three_days_of_a_down_relay_the_mail_is_given_up_with_evidence(
    client, registry, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    assert post_centre(client, ANNA["email"]).status_code == 200
    case = SubjectRequest.objects.latest("pk")
    t0 = Mail.objects.get().queued
    delivery.deliver(now=t0)
    assert Mail.objects.exists()
    gone = delivery.deliver(now=t0 + timedelta(days=3, minutes=1))
    assert gone.given_up == 1 and not Mail.objects.exists()
    entry = Entry.objects.get(action="mail.given_up")
    assert entry.refs == [case.ref] and entry.data["kind"] == "subject_link"
    assert ANNA["email"] not in json.dumps(entry.data)


class Refusing:
    """A real SMTP server that refuses every recipient for good, naming the address."""

    async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
        return f"550 5.1.1 <{address}>: Recipient address rejected: no such user"


def test_a_recipient_refused_for_good_is_given_up_at_once_naming_no_address(
    client, registry, settings
):
    port = closed_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        assert post_centre(client, ANNA["email"]).status_code == 200
        outcome = delivery.deliver()
    finally:
        controller.stop()
    assert outcome.given_up == 1 and not Mail.objects.exists()
    entry = Entry.objects.get(action="mail.given_up")
    assert "550" in entry.data["reason"] and "<address>" in entry.data["reason"]
    assert ANNA["email"] not in json.dumps(entry.data)
    assert panels._outbox(timezone.now()).state == "failed"  # staff learn of it


THREADS_NEED_POSTGRESQL = (
    "SQLite's in-memory test database locks whole tables against other threads instead of "
    "waiting as a database file does; on SQLite the same races run in separate processes on "
    "a database file (the tests with gallra serve and two `gallra outbox send`)"
)


@pytest.mark.django_db(transaction=True)
def test_two_deliverers_at_once_send_each_mail_once(smtp):
    if connection.vendor == "sqlite":
        pytest.skip(THREADS_NEED_POSTGRESQL)
    now = timezone.now()
    for i in range(24):
        outbox.queue(
            outbox.Message(f"Mail {i}", "Hej", ("info@redcloud.example",)), kind="contact", now=now
        )
    errors = []

    def deliverer():
        try:
            while Mail.objects.filter(claimed_until__isnull=True).exists():
                delivery.deliver(limit=3)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=deliverer) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    subjects = sorted(subject for _, subject, _ in smtp.messages)
    assert subjects == sorted(f"Mail {i}" for i in range(24))  # each once
    assert not Mail.objects.exists()


def test_a_claim_read_by_two_deliverers_goes_to_one(db):
    now = timezone.now()
    outbox.queue(outbox.Message("Hej", "Hej", ("info@redcloud.example",)), kind="contact", now=now)
    mine, theirs = Mail.objects.get(), Mail.objects.get()  # both read it before either claims
    assert delivery._take(mine, now) is True
    assert delivery._take(theirs, now) is False  # the conditional update finds it taken
    assert delivery.claim(now) is None  # claimed for the lease
    assert delivery.claim(now + delivery.LEASE).pk == mine.pk  # a dead deliverer's: free again


def test_a_crash_between_send_and_delete_sends_again_but_not_without_bound(smtp, db, monkeypatch):
    monkeypatch.setattr(delivery, "MAX_ATTEMPTS", 3)
    ids = []
    real_data = smtp.handle_DATA

    async def handle_data(server, session, envelope):  # the Message-ID of every copy
        ids.append(re.search(rb"Message-ID: (\S+)", envelope.content).group(1))
        return await real_data(server, session, envelope)

    smtp.handle_DATA = handle_data
    now = timezone.now()
    outbox.queue(
        outbox.Message("Hej", "Hej", ("info@redcloud.example",)), kind="contact", now=now, ref="M-1"
    )
    real_delete = delivery._delete

    def crash(mail):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(delivery, "_delete", crash)
    for i in range(5):
        with pytest.raises(RuntimeError):
            delivery.deliver(now=now + i * delivery.LEASE)
        if len(ids) == 3:
            break
    monkeypatch.setattr(delivery, "_delete", real_delete)
    delivery.deliver(now=now + 9 * delivery.LEASE)  # the fourth claim gives up, sends nothing
    assert len(ids) == 3 and len(set(ids)) == 1  # at most MAX_ATTEMPTS copies, one Message-ID
    assert not Mail.objects.exists()
    assert Entry.objects.get(action="mail.given_up").refs == ["M-1"]


def test_the_contact_form_keeps_nothing_in_clear_and_nothing_once_delivered(client, smtp, db):
    secret = "Mitt hemliga meddelande 070-123 45 67"
    assert post_contact(client, name="Greta Garbo", message=secret).status_code == 200
    row = Mail.objects.get()
    stored = json.dumps(list(Mail.objects.values().get().values()), default=str)
    assert "Greta" not in stored and "070-123" not in stored and "nilssons" not in stored
    assert b"Greta" not in bytes(row.sealed)
    delivery.deliver()
    ((to, subject, body),) = smtp.messages
    assert "Greta Garbo" in subject and secret in body
    assert not Mail.objects.exists()


class Gate(Inbox):
    """The real SMTP server, holding each sender at MAIL FROM until two deliverers are
    connected: so the two really deliver at the same time, however slowly they start."""

    def __init__(self, senders: int) -> None:
        super().__init__()
        self.senders, self.sessions, self.deadline = senders, set(), 0.0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        self.sessions.add(id(session))
        self.deadline = self.deadline or time.monotonic() + 25  # inside the SMTP timeout
        while len(self.sessions) < self.senders and time.monotonic() < self.deadline:
            await asyncio.sleep(0.01)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Gallra:
    """An installation on an SQLite file (WAL), as `gallra init` makes it; each test points
    it at its relay with GALLRA_SMTP_PORT."""
    gallra = Gallra(tmp_path_factory.mktemp("installed") / "data")
    gallra.env |= {
        "GALLRA_SMTP_HOST": "127.0.0.1",
        "GALLRA_ENFORCE_TIME": "off",
        "GALLRA_FORM_MIN_SECONDS": "0",
        "GALLRA_CONTACT_TO": "info@redcloud.example",
    }
    gallra.run("init")
    return gallra


def test_two_deliverer_processes_send_each_mail_once_on_an_sqlite_file(installed):
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL the deliverers race in threads (test_two_deliverers_...)")
    port = closed_port()
    relay = Gate(senders=2)
    controller = Controller(relay, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        gallra = installed
        gallra.env["GALLRA_SMTP_PORT"] = str(port)
        gallra.run(
            "django",
            "shell",
            "-c",
            "from django.utils import timezone\n"
            "from gallra.outbox.mail import Message, queue\n"
            "for i in range(30):\n"
            "    queue(Message(f'Mail {i}', 'Hej', ('info@redcloud.example',)),"
            " kind='contact', now=timezone.now())",
        )
        send = gallra.command("outbox", "send", "--format", "json")
        deliverers = [
            subprocess.Popen(send, env=gallra.env, stdout=subprocess.PIPE, text=True)  # noqa: S603
            for _ in range(2)
        ]
        outputs = [d.communicate(timeout=120)[0] for d in deliverers]
    finally:
        controller.stop()
    assert [d.returncode for d in deliverers] == [0, 0], outputs
    sent = [json.loads(out)["sent"] for out in outputs]
    assert sum(sent) == 30 and min(sent) > 0  # both delivered, and no mail twice
    assert sorted(s for _, s, _ in relay.messages) == sorted(f"Mail {i}" for i in range(30))
    status = json.loads(gallra.run("outbox", "status", "--format", "json").stdout)
    assert status["waiting"] == 0


def test_one_time_stamp_posted_five_times_at_once_to_gallra_serve_wins_once(
    smtp, settings, tmp_path, installed
):
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL the posts race in threads (test_two_posts_...)")
    gallra = installed
    gallra.env["GALLRA_SMTP_PORT"] = str(settings.EMAIL_PORT)  # the `smtp` relay
    port = closed_port()
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 (the server writes to it until the end)
    serve = gallra.command("serve", "--port", str(port))
    server = subprocess.Popen(serve, env=gallra.env, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):  # up to 30 s for the server to answer
            try:
                urllib.request.urlopen(base + CONTACT, timeout=2).close()  # noqa: S310
                break
            except OSError:
                time.sleep(0.2)
        with urllib.request.urlopen(base + CONTACT) as page:  # noqa: S310
            html = page.read().decode()
            cookie = page.headers["Set-Cookie"].split(";")[0]
        fields = {
            name: re.search(rf'name="{name}" value="([^"]+)"', html).group(1)
            for name in ("csrfmiddlewaretoken", "t")
        }
        fields |= {"name": "Erik", "email": "erik@example.se", "message": "Hej", "website": ""}
        body = urllib.parse.urlencode(fields).encode()
        statuses = []

        def post():
            headers = {"Cookie": cookie, "Referer": base + CONTACT}
            request = urllib.request.Request(base + CONTACT, body, headers=headers)  # noqa: S310
            try:
                with urllib.request.urlopen(request) as answer:  # noqa: S310
                    statuses.append(answer.status)
            except urllib.error.HTTPError as refused:
                statuses.append(refused.code)

        threads = [threading.Thread(target=post) for _ in range(5)]  # the client's limit: 5
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for _ in range(200):  # up to 20 s for serve's mail thread
            if smtp.messages:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # a second mail, if there were one, would have come by now
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    assert sorted(statuses) == [200] + [400] * 4
    assert len(smtp.messages) == 1


# -- item 4: control characters in the public forms -----------------------------------------


HOSTILE = [
    ("CR LF and a header", "Erik\r\nBcc: victim@example.se", "U+000D"),
    ("LF", "Erik\nNilsson", "U+000A"),
    ("CR", "Erik\rNilsson", "U+000D"),
    ("vertical tab", "Erik\x0bNilsson", "U+000B"),
    ("escape", "Erik\x1b[2J", "U+001B"),
    ("DEL", "Erik\x7f", "U+007F"),
    ("NEL", "Erik\x85Nilsson", "U+0085"),
    ("C1 CSI", "Erik\x9b31m", "U+009B"),
    ("line separator", "Erik\u2028Nilsson", "U+2028"),
    ("paragraph separator", "Erik\u2029Nilsson", "U+2029"),
    ("bidi override", "Erik \u202egnilliN", "U+202E"),
    ("trailing line break", "Erik Nilsson\n", "U+000A"),
    ("NUL", "Erik\x00", "Null-tecken är inte tillåtna"),  # Django's own check, in Swedish
]


@pytest.mark.parametrize(("what", "value", "named"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_a_control_character_in_a_name_is_refused_naming_the_field(
    client, smtp, registry, caplog, what, value, named
):
    for response in (
        post_contact(client, name=value),
        post_centre(client, ANNA["email"], name=value),
    ):
        assert response.status_code == 400, what
        errors = re.search(r'id="id_name_errors">(.*?)</ul>', response.text, re.S)
        assert errors and named in errors.group(1)
    assert not Mail.objects.exists() and not SubjectRequest.objects.exists()
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
    assert not any("Erik" in r.getMessage() for r in caplog.records)  # no name in a log


@pytest.mark.parametrize(
    "value",
    [
        "erik@example.se\r\nBcc: victim@example.se",
        "erik@example.se\n",
        "erik\x00@example.se",
        "erik@exam\u2028ple.se",
        "erik\x85@example.se",
    ],
)
def test_a_control_character_in_an_address_is_refused_naming_the_field(client, registry, value):
    assert 'id="id_email_errors"' in post_contact(client, email=value).text
    assert post_contact(client, email=value).status_code == 400
    assert post_centre(client, value).status_code == 400
    assert not Mail.objects.exists() and not SubjectRequest.objects.exists()


def test_a_message_keeps_its_lines_but_not_control_characters(client, smtp, registry):
    assert post_contact(client, message="Hej!\r\nRad två\ttabb").status_code == 200
    for bad in ("Hej\x1b[2J", "Hej\x00", "Hej\x07", "Hej\x9b"):
        response = post_contact(client, message=bad)
        assert response.status_code == 400 and 'id="id_message_errors"' in response.text
        assert post_centre(client, ANNA["email"], details=bad).status_code == 400
    delivery.deliver()
    ((_to, _subject, body),) = smtp.messages
    assert "Rad två\ttabb" in body


@pytest.mark.parametrize(
    "message",
    [
        outbox.Message("Hej\r\nBcc: x@example.se", "body", ("a@example.se",)),
        outbox.Message("Hej", "body", ("a@example.se\nBcc: x@example.se",)),
        outbox.Message("Hej", "body", ("a@example.se",), ("b@example.se\u2028",)),
        outbox.Message("Hej", "body", ()),
    ],
)
def test_the_outbox_refuses_a_header_it_would_have_to_fold(db, message):
    with pytest.raises(outbox.BadHeader):
        outbox.queue(message, kind="contact", now=timezone.now())
    assert not Mail.objects.exists()


# -- item 5: one post per time stamp -----------------------------------------------------------


TOO_FAST = "Formuläret skickades för snabbt eller är för gammalt"


def test_a_time_stamp_is_good_for_one_post(client, registry):
    t = form_token(client, CONTACT)
    assert post_contact(client, t=t).status_code == 200
    again = post_contact(client, t=t)
    assert again.status_code == 400 and TOO_FAST in again.text
    t = form_token(client, CENTRE)
    assert post_centre(client, ANNA["email"], t=t).status_code == 200
    assert post_centre(client, UNKNOWN, t=t).status_code == 400
    assert Mail.objects.count() == 2 and SubjectRequest.objects.count() == 1

    refused = post_contact(client, email="inte-en-adress")  # a field error uses it up...
    fresh = re.search(r'name="t" value="([^"]+)"', refused.text).group(1)
    assert post_contact(client, t=fresh).status_code == 200  # ...and the page has a new one


def signed(value, *, at: float | None = None) -> str:
    if at is None:
        return signing.dumps(value, salt=guard.SALT)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(signing.time, "time", lambda: at)
        return signing.dumps(value, salt=guard.SALT)


@pytest.mark.parametrize(
    "make",
    [
        lambda: "forged",
        lambda: "",
        lambda: signing.dumps({"t": time.time(), "n": "a" * 32}, salt="another.salt"),
        lambda: signed(time.time()),  # the old form: a bare time stamp, no nonce
        lambda: signed({"t": time.time()}),  # no nonce
        lambda: signed({"n": "b" * 32}),  # no time
        lambda: signed({"t": "soon", "n": "c" * 32}),
        lambda: signed({"t": time.time(), "n": "d" * 32}, at=time.time() - guard.MAX_AGE - 60),
        lambda: signed({"t": time.time() - 1, "n": "e" * 32})[:-2] + "xx",  # tampered
    ],
    ids=[
        "forged",
        "empty",
        "other salt",
        "old form",
        "no nonce",
        "no time",
        "bad time",
        "older than a day",
        "tampered",
    ],
)
def test_forged_old_and_stale_time_stamps_are_refused(client, db, make):
    response = post_contact(client, t=make())
    assert response.status_code == 400 and TOO_FAST in response.text
    assert not Mail.objects.exists()


def test_used_time_stamps_are_forgotten_after_a_day_and_hold_nothing_else(client, db):
    old = UsedFormToken.objects.create(
        nonce="f" * 32, issued=timezone.now() - timedelta(seconds=guard.MAX_AGE + 1)
    )
    assert post_contact(client).status_code == 200
    assert not UsedFormToken.objects.filter(pk=old.pk).exists()
    assert UsedFormToken.objects.count() == 1
    assert {f.name for f in UsedFormToken._meta.fields} == {"id", "nonce", "issued"}


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_time_stamp_at_once_only_one_wins():
    if connection.vendor == "sqlite":
        pytest.skip(THREADS_NEED_POSTGRESQL)
    t = form_token(Client(), CONTACT)
    statuses = []

    def send(i):
        statuses.append(post_contact(Client(REMOTE_ADDR=f"198.51.100.{i}"), t=t).status_code)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [400] * 5
    assert Mail.objects.count() == 1


# -- item 5: refs that tell nothing --------------------------------------------------------


def open_one(email="a@example.se", received=date(2026, 3, 2)) -> SubjectRequest:
    return cases.open_request(
        "access", Identity.of(email), received=received, now=timezone.now(), actor="test"
    )


def test_refs_are_random_and_tell_nothing_of_how_many_came_before(db):
    refs = [open_one().ref for _ in range(60)]
    assert all(re.fullmatch(r"DSR-2026-[0-9A-HJKMNP-TV-Z]{8}", r) for r in refs)
    assert len(set(refs)) == 60 and refs != sorted(refs)
    assert not any(re.search(r"[ILOU]", r[9:]) for r in refs)  # no look-alikes, no words


def test_a_ref_that_collides_is_drawn_again(db, monkeypatch):
    first = open_one()
    drawn = iter([first.ref, first.ref, "DSR-2026-7K3QX9MD"])
    monkeypatch.setattr(cases, "new_ref", lambda received: next(drawn))
    assert open_one().ref == "DSR-2026-7K3QX9MD"
    monkeypatch.setattr(cases, "new_ref", lambda received: first.ref)
    with pytest.raises(cases.CaseError, match="no free reference"):
        open_one()
    assert SubjectRequest.objects.count() == 2
    assert Entry.objects.filter(action="subject.request").count() == 2


def test_old_and_new_refs_work_in_the_command_line_the_admin_and_the_api(db, admin_client):
    old = SubjectRequest.objects.create(
        ref="DSR-2025-0007",
        kind="access",
        email="old@example.se",
        received=date(2025, 5, 2),
        due=date(2025, 6, 2),
    )
    new = open_one()
    # as read out on the phone: lower case, O for 0, L for 1
    typed = new.ref[:9].lower() + new.ref[9:].lower().replace("0", "o").replace("1", "l")
    for ref, shown in ((old.ref, old.ref), (typed, new.ref), (f"  {new.ref} ", new.ref)):
        out = io.StringIO()
        call_command("subject", "show", ref, stdout=out)
        assert out.getvalue().startswith(f"{shown}: access")
    assert cases.normal_ref("DSR-2025-0007") == "DSR-2025-0007"
    for r in (old, new):
        assert r.ref in admin_client.get("/admin/subjects/subjectrequest/", {"q": r.ref}).text
    user = get_user_model().objects.create_user("kim", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_subjectrequest"))
    token = ApiToken.issue("kim", user, now=timezone.now(), actor="test")
    for r in (old, new):
        answer = Client().get(f"/api/v1/requests/{r.ref}", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert answer.status_code == 200 and answer.json()["ref"] == r.ref


def test_requests_sort_by_date_where_they_sorted_by_ref(db):
    later = SubjectRequest.objects.create(
        ref="DSR-2026-00000000",
        kind="access",
        email="a@example.se",
        received=date(2026, 1, 31),
        due=date(2026, 3, 2),
    )
    earlier = SubjectRequest.objects.create(
        ref="DSR-2026-ZZZZZZZZ",
        kind="access",
        email="b@example.se",
        received=date(2026, 1, 30),
        due=date(2026, 3, 2),
    )
    expected = [earlier.ref, later.ref]  # the same deadline: the one received first leads
    assert [r.ref for r in cases.open_by_deadline()] == expected
    assert [r.ref for r in SubjectRequest.objects.all()] == expected
    assert [r["ref"] for r in panels.subject_requests(date(2026, 2, 1))["rows"]] == expected
