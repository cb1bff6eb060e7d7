"""Nothing irreversible happens unasked (issue 16, item 18).

A new provider installs gallra, imports its customers and starts `gallra serve` to look
around. The daily run must not delete anything until a person has reviewed the plan and
armed enforcement (`gallra enforce --arm`, or GALLRA_ENFORCE_ARMED=1 for an unattended
install); a policy whose retention rules changed is disarmed again. Until then `gallra
check` and the front page say so, with what would go, and the dry run still shows it.

The registry below has nine records due on DAY, counted by hand from the JufCorp policy:
customer C-GONE's last agreement ended 2024-06-30 (P15: due 2025-06-30), so the customer, its
agreement, person, account, request, document and credential go (customer-data-after-
relationship: 7); its invoice of financial year 2018 is kept through 2025 and due on
2026-01-01 (accounting-records: 1); a message last touched on 2026-05-01 was due on
2026-08-01 (correspondence-and-sales: 1). C-KEEP has an agreement running and stays.
M-LATER, last touched 2026-08-26, falls due the day after DAY (2026-11-26).
"""

from __future__ import annotations

import io
import json
import re
import signal
import sqlite3
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.config import DEFAULT_POLICY
from gallra.evidence.models import Entry
from gallra.homes.models import AccessGrant
from gallra.instance import schedule
from gallra.instance.tests.conftest import Gallra, free_port
from gallra.logins.ingest import ingest_files
from gallra.logins.models import Escrow, LoginEvent
from gallra.mailboxes.tests.conftest import MaildirStore, message
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import (
    Account,
    Agreement,
    Correspondence,
    Credential,
    Customer,
    CustomerKey,
    CustomerRequest,
    Invoice,
    Person,
    TechnicalDocument,
)
from gallra.retention import arming
from gallra.retention.models import DailyRun

DAY = datetime(2026, 11, 25, 2, 5, tzinfo=UTC)  # 03:05 in Stockholm, after the daily time
NEXT_DAY = DAY + timedelta(days=1)
GOING = {  # (model, ref) of the nine records due on DAY
    (Customer, "C-GONE"),
    (Agreement, "C-GONE-A"),
    (Person, "P-GONE"),
    (Account, "A-GONE"),
    (CustomerRequest, "R-GONE"),
    (TechnicalDocument, "D-GONE"),
    (Credential, "K-GONE"),
    (Invoice, "F-GONE"),
    (Correspondence, "M-GONE"),
}
BY_RULE = {  # what the dry run lists for DAY, by rule and record type
    ("accounting-records", "invoice"): 1,
    ("correspondence-and-sales", "correspondence"): 1,
    **{
        ("customer-data-after-relationship", t): 1
        for t in ("customer", "agreement", "person", "account", "request", "document", "credential")
    },
}
NINE = " (accounting-records 1, correspondence-and-sales 1, customer-data-after-relationship 7)"


def registry() -> dict:
    """The new provider's import: nine records due on DAY (see the module's text)."""
    return {
        "customers": [
            {
                "ref": "C-GONE",
                "name": "Slutat AB",
                "agreements": [{"ref": "C-GONE-A", "start": ("2020-01-01"), "end": ("2024-06-30")}],
                "people": [
                    {
                        "ref": "P-GONE",
                        "first_name": "Sigrid",
                        "last_name": "Slutsson",
                        "email": "sigrid@slutat.example",
                        "roles": ["user", "contact"],
                    }
                ],
                "accounts": [
                    {
                        "ref": "A-GONE",
                        "person": "P-GONE",
                        "username": "sigrid",
                        "opened": ("2020-01-01"),
                    }
                ],
                "requests": [
                    {
                        "ref": "R-GONE",
                        "kind": "order",
                        "created": ("2021-01-01"),
                        "text": "Ny server",
                    }
                ],
                "documents": [
                    {
                        "ref": "D-GONE",
                        "title": "Nätverk",
                        "created": ("2021-01-01"),
                        "content": "VLAN 12",
                    }
                ],
                "credentials": [
                    {
                        "ref": "K-GONE",
                        "system": "router",
                        "username": "admin",
                        "secret": "hemligt-123",
                        "created": ("2021-01-01"),
                    }
                ],
                "invoices": [
                    {
                        "ref": "F-GONE",
                        "number": "2018-7",
                        "issued": "2018-05-01",
                        "fiscal_year_end": "2018-12-31",
                        "amount": "100",
                    }
                ],
            },
            {
                "ref": "C-KEEP",
                "name": "Pågår AB",
                "agreements": [{"ref": "C-KEEP-A", "start": ("2020-01-01"), "end": None}],
                "people": [
                    {
                        "ref": "P-KEEP",
                        "first_name": "Per",
                        "last_name": "Pågående",
                        "roles": ["user", "contact"],
                    }
                ],
                "accounts": [
                    {
                        "ref": "A-KEEP",
                        "person": "P-KEEP",
                        "username": "per",
                        "opened": ("2020-01-01"),
                    },
                    {
                        "ref": "A-KEEP2",
                        "person": "P-KEEP",
                        "username": "per2",
                        "opened": ("2020-01-01"),
                    },
                ],
            },
        ],
        "correspondence": [
            {
                "ref": "M-GONE",
                "received": ("2026-05-01"),
                "last_activity": ("2026-05-01"),
                "sender": "fraga@kund.example",
                "subject": "Fråga",
            },
            {
                "ref": "M-LATER",
                "received": ("2026-08-26"),
                "last_activity": ("2026-08-26"),
                "sender": "svar@kund.example",
                "subject": "Svar",
            },
        ],
    }


def at(instant: datetime):
    return mock.patch("django.utils.timezone.now", return_value=instant)


def left() -> set[tuple[type, str]]:
    """Which of the nine records due on DAY are still there."""
    return {(model, ref) for model, ref in GOING if model.objects.filter(ref=ref).exists()}


def entries(action: str) -> list[Entry]:
    return list(Entry.objects.filter(action=action).order_by("seq"))


def enforce_cmd(*args: str) -> str:
    out = io.StringIO()
    call_command("enforce", "--lang", "en", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def dry_run(day: datetime = DAY) -> dict:
    """The dry run's JSON for the day: (rule, type) -> count."""
    with at(day):
        [summary] = json.loads(enforce_cmd("--dry-run", "--format", "json"))
    return {(r["rule"], r["type"]): r["count"] for r in summary["by_rule"]}


def check() -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("check", stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def enforcement_line(text: str) -> str:
    [line] = [x for x in text.splitlines() if " enforcement: " in x]
    return line


@pytest.fixture
def provider(db, monkeypatch, settings):
    """JufCorp's installation, fresh, with the new provider's registry imported."""
    monkeypatch.setenv("GALLRA_ENFORCE_TIME", "03:00")
    monkeypatch.setenv("GALLRA_SERVER_COUNTRY", "SE")
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    import_document(registry())
    assert left() == GOING


class Policies:
    """Policy files made from the shipped one with a change, each used in turn (GALLRA_POLICY)."""

    def __init__(self, tmp_path: Path, monkeypatch) -> None:
        self.folder, self.monkeypatch, self.count = tmp_path, monkeypatch, 0

    def use(self, *replacements: tuple[str, str], extra: str = "") -> None:
        text = DEFAULT_POLICY.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        self.count += 1
        path = self.folder / f"policy-{self.count}.toml"
        path.write_text(text + extra, encoding="utf-8")
        self.monkeypatch.setenv("GALLRA_POLICY", str(path))

    def shipped(self) -> None:
        self.use()


@pytest.fixture
def policies(tmp_path, monkeypatch) -> Policies:
    found = Policies(tmp_path, monkeypatch)
    found.shipped()
    return found


# Each kind of change to the retention rules, and the line that names it, written by hand.
CHANGES = {
    "duration": (
        [('keep_for = "P3M"', 'keep_for = "P2M"')],
        "rule correspondence-and-sales: keep_for P3M → P2M",
    ),
    "new rule": (
        [
            (
                '[[rule]]\nid = "login-logs"',
                '[[rule]]\nid = "quotes-sooner"\nclauses = ["P19"]\n'
                'applies_to = ["sales_records"]\ntrigger = "created"\nkeep_for = "P1M"\n\n'
                '[[rule]]\nid = "login-logs"',
            )
        ],
        "rule quotes-sooner added",
    ),
    "field moved to another category": (
        [
            (
                'fields = ["correspondence.sender", "correspondence.subject"]',
                'fields = ["correspondence.sender"]',
            ),
            (
                'fields = ["prospect.name", "prospect.email", "quote.description"]',
                'fields = ["prospect.name", "prospect.email", "quote.description", '
                '"correspondence.subject"]',
            ),
        ],
        "field correspondence.subject moved from category correspondence to sales_records",
    ),
    "category taken off a rule": (
        [
            (
                'applies_to = ["customer_contact", "user_accounts", "credentials"]',
                'applies_to = ["customer_contact", "user_accounts"]',
            )
        ],
        "rule closed-account: applies_to [credentials, customer_contact, user_accounts] → "
        "[customer_contact, user_accounts]",
    ),
    "holds no longer keep": (
        [('keep_for = "P3M"\nunless = ["hold"]', 'keep_for = "P3M"')],
        "rule correspondence-and-sales: unless [hold] → []",
    ),
    "login keys kept longer": (
        [('sealed_ip_key_lifetime = "P6M"', 'sealed_ip_key_lifetime = "P9M"')],
        "logins: sealed_ip_key_lifetime P6M → P9M",
    ),
}


# -- a new instance ----------------------------------------------------------------------------


def test_a_new_instance_deletes_nothing_by_itself_and_says_so_once_a_day(provider):
    with at(DAY):
        assert schedule.run_if_due() is True
    assert left() == GOING  # nothing deleted
    assert CustomerKey.objects.filter(customer_ref="C-GONE").exists()  # nor its key destroyed
    assert not entries("delete") and not entries("customer_keys_destroyed")
    [skipped] = entries("enforcement_skipped")
    assert skipped.count == 9
    assert skipped.data["why"] == "never armed"
    assert skipped.data["would_delete"]["by_rule"] == {
        f"{r}/{t}": n for (r, t), n in BY_RULE.items()
    }
    # The other jobs ran as on any day.
    outcomes = dict(DailyRun.objects.values_list("job", "outcome"))
    assert outcomes == {"enforce": "skipped", "tasks": "ok", "residency": "ok", "incidents": "ok"}
    assert len(entries("residency_checked")) == 1

    for later in (DAY + timedelta(minutes=5), DAY + timedelta(hours=2), DAY + timedelta(hours=20)):
        with at(later):
            assert schedule.run_if_due() is False  # once a day, not every five minutes
    assert len(entries("enforcement_skipped")) == 1

    with at(NEXT_DAY):
        assert schedule.run_if_due() is True
    assert left() == GOING
    first, second = entries("enforcement_skipped")
    assert second.count == 10  # M-LATER fell due too
    assert second.data["deletion_date"] == "2026-11-26"


def test_the_dry_run_shows_the_same_after_serve_as_before(provider):
    before = dry_run()
    assert before == BY_RULE
    with at(DAY):
        schedule.run_if_due()
    assert dry_run() == before
    with at(DAY):
        text = enforce_cmd("--dry-run")
    assert "Dry run for 2026-11-25: 9 records would be deleted." in text
    assert (
        "Enforcement is not armed (never armed): the daily run deletes nothing until you arm "
        "it with `gallra enforce --arm`."
    ) in text


@pytest.mark.parametrize("format_", ["text", "json"])
def test_plain_gallra_enforce_from_cron_deletes_nothing_until_armed(provider, format_):
    for _ in range(2):
        with at(DAY), pytest.raises(CommandError) as refused:
            enforce_cmd("--format", format_)
        assert refused.value.returncode == 1
        message = str(refused.value)
        assert message.startswith("enforcement is not armed (never armed): 9 records would be")
        assert "`gallra enforce --dry-run`" in message and "`gallra enforce --arm`" in message
        assert "\n" not in message  # one line
    assert left() == GOING
    assert len(entries("enforcement_skipped")) == 1  # once a day, however often cron asks


def test_the_json_of_a_refused_run_says_what_would_go(provider):
    out = io.StringIO()
    with at(DAY), pytest.raises(CommandError):
        call_command("enforce", "--format", "json", "--lang", "en", stdout=out)
    said = json.loads(out.getvalue())
    assert said["armed"] is False and said["why"] == "never armed"
    assert said["would_delete"]["total"] == 9
    assert said["would_delete"]["by_rule"]["customer-data-after-relationship/customer"] == 1


# -- arming ------------------------------------------------------------------------------------


def test_armed_by_a_person_with_the_command(provider, monkeypatch):
    monkeypatch.setattr(arming.getpass, "getuser", lambda: "kristina")
    with at(DAY), pytest.raises(CommandError) as both:
        enforce_cmd("--arm", "--dry-run")
    assert both.value.returncode == 2 and left() == GOING

    with at(DAY):
        text = enforce_cmd("--arm")
    assert text.startswith("Enforcement armed by kristina for the policy's retention rules")
    assert "Enforcement for 2026-11-25: 9 records deleted." in text
    assert left() == set()
    [armed] = entries("enforcement_armed")
    assert armed.actor == "kristina" and armed.data["how"] == "command"
    assert re.fullmatch(r"[0-9a-f]{64}", armed.data["digest"])
    assert armed.data["previous_digest"] is None and armed.data["changes"] == []
    assert "customer-data-after-relationship" in armed.data["rules"]

    with at(DAY + timedelta(hours=1)):
        text = enforce_cmd("--arm", "--actor", "someone-else")  # the same rules: nothing new
    assert "armed by" not in text and len(entries("enforcement_armed")) == 1

    # From now on the daily run deletes by itself: tomorrow M-LATER goes.
    with at(NEXT_DAY):
        assert schedule.run_if_due() is True
    assert not Correspondence.objects.filter(ref="M-LATER").exists()
    assert not entries("enforcement_skipped")
    assert DailyRun.objects.get(day=date(2026, 11, 26), job="enforce").outcome == "ok"


@pytest.mark.parametrize("name", ["x" * 5000, "ö" * 101, "vd\nenforcement_armed by root", ""])
def test_a_hostile_name_for_who_arms_it_is_refused_before_anything_happens(provider, name):
    with at(DAY), pytest.raises(CommandError) as refused:
        enforce_cmd("--arm", "--actor", name)
    assert refused.value.returncode == 2 and "--actor" in str(refused.value)
    assert left() == GOING
    assert not entries("enforcement_armed") and not arming.state(current_policy()).armed
    with at(DAY):
        enforce_cmd("--arm", "--actor", "ö" * 100)  # the longest name there is room for
    assert entries("enforcement_armed")[0].actor == "ö" * 100


def test_armed_by_the_setting_for_an_unattended_install(provider, settings, policies):
    settings.GALLRA_ENFORCE_ARMED = True
    with at(DAY):
        schedule.run_if_due()
    assert left() == set()
    [armed] = entries("enforcement_armed")
    assert armed.actor == "GALLRA_ENFORCE_ARMED=1" and armed.data["how"] == "setting"
    assert not entries("enforcement_skipped") and not entries("enforcement_disarmed")
    text, failed = check()
    assert (
        enforcement_line(text) == "ok    enforcement: armed by the setting GALLRA_ENFORCE_ARMED=1"
    )
    assert "enforcement" not in str(failed or "")  # the rest of the checklist: instance/tests

    # The rules change: still armed (the setting says so), and the evidence names the change.
    policies.use(*CHANGES["duration"][0])
    with at(NEXT_DAY):
        schedule.run_if_due()
    assert not Correspondence.objects.filter(ref="M-LATER").exists()
    first, second = entries("enforcement_armed")
    assert second.data["changes"] == [CHANGES["duration"][1]]
    assert second.data["previous_digest"] == first.data["digest"]
    assert not entries("enforcement_disarmed")


@pytest.mark.parametrize("change", list(CHANGES))
def test_changed_retention_rules_disarm_until_armed_again(provider, policies, change):
    replacements, named = CHANGES[change]
    with at(DAY - timedelta(days=30)):
        arming.arm(current_policy(), DAY - timedelta(days=30), "kristina")
    policies.use(*replacements)

    with at(DAY):
        schedule.run_if_due()
    assert left() == GOING  # disarmed: nothing deleted
    [disarmed] = entries("enforcement_disarmed")
    assert disarmed.data["changes"] == [named]
    assert disarmed.data["armed_by"] == "kristina"
    [skipped] = entries("enforcement_skipped")
    assert skipped.data["why"] == (
        f"the policy's retention rules changed since kristina armed them on 2026-10-26: {named}"
    )
    text, failed = check()
    assert enforcement_line(text).startswith(
        f"FAIL  enforcement: not armed (the policy's retention rules changed since kristina "
        f"armed them on 2026-10-26: {named}) — "
    )
    assert failed.returncode == 1 and "enforcement is not armed" in str(failed)
    with at(NEXT_DAY):
        schedule.run_if_due()
    assert len(entries("enforcement_disarmed")) == 1  # said once, not every day
    assert len(entries("enforcement_skipped")) == 2

    with at(NEXT_DAY + timedelta(hours=3)):
        enforce_cmd("--arm", "--actor", "chef")
    assert left() == set()
    [_, again] = entries("enforcement_armed")
    assert again.actor == "chef" and again.data["changes"] == [named]


def test_a_change_outside_the_retention_rules_leaves_it_armed(provider, policies):
    with at(DAY - timedelta(days=1)):
        arming.arm(current_policy(), DAY - timedelta(days=1), "kristina")
    policies.use(
        ('phone = "', 'phone = "+46 8 000 00 01 / '),
        ("revision = 1          #", "revision = 2          #"),
    )
    with at(DAY):
        schedule.run_if_due()
    assert left() == set()
    assert not entries("enforcement_disarmed") and not entries("enforcement_skipped")


def test_disarmed_again_when_the_rules_change_back(provider, policies):
    replacements, named = CHANGES["duration"]
    with at(DAY - timedelta(days=2)):
        arming.arm(current_policy(), DAY - timedelta(days=2), "kristina")
    policies.use(*replacements)
    with at(DAY - timedelta(days=1)):
        enforce_cmd("--arm", "--actor", "chef", "--at", "2020-01-01")  # armed for P2M
    policies.shipped()  # back to P3M: not what chef armed
    with at(DAY):
        schedule.run_if_due()
    assert left() == GOING
    [disarmed] = entries("enforcement_disarmed")
    assert disarmed.data["changes"] == ["rule correspondence-and-sales: keep_for P2M → P3M"]
    assert disarmed.data["armed_by"] == "chef"

    # Back to what chef armed: armed again; away from it once more: said again.
    policies.use(*replacements)
    with at(NEXT_DAY):
        schedule.run_if_due()
    assert not Correspondence.objects.filter(ref="M-GONE").exists()  # armed: deleted
    policies.shipped()
    with at(NEXT_DAY + timedelta(days=1)):
        schedule.run_if_due()
    assert [e.data["changes"] for e in entries("enforcement_disarmed")] == [
        ["rule correspondence-and-sales: keep_for P2M → P3M"]
    ] * 2


# -- gallra check and the front page -----------------------------------------------------------


def test_gallra_check_says_it_is_not_armed_and_what_would_go(provider):
    with at(DAY):
        text, failed = check()
    assert enforcement_line(text) == (
        f"FAIL  enforcement: not armed (never armed) — 9 records would be deleted today{NINE}; "
        "review them with `gallra enforce --dry-run`, then arm with `gallra enforce --arm`"
    )
    assert failed.returncode == 1 and "enforcement is not armed" in str(failed).split("; ")
    assert left() == GOING

    with at(DAY):
        arming.arm(current_policy(), DAY, "kristina")
        text, failed = check()
    assert enforcement_line(text) == "ok    enforcement: armed by kristina on 2026-11-25 03:05"
    assert "enforcement" not in str(failed or "")


def test_the_front_page_shows_it_amber_with_what_would_go(provider, admin_client):
    with at(DAY):
        html = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = run_row(html, "(enforce)")
    assert 'class="dashboard-waiting"' in row
    assert "not armed (never armed)" in row
    assert "Today 9 records of the registry would be deleted." in row
    assert "gallra enforce --dry-run" in row and "gallra enforce --arm" in row
    links = {
        rule: (href, int(n))
        for href, rule, n in re.findall(r'<a href="([^"]+)">([a-z-]+): (\d+)</a>', row)
    }
    assert {rule: n for rule, (_, n) in links.items()} == {
        "customer-data-after-relationship": 7,
        "correspondence-and-sales": 1,
        "accounting-records": 1,
    }
    customer_data = links["customer-data-after-relationship"][0]
    with at(DAY):
        page = admin_client.get(customer_data.replace("&amp;", "&")).content.decode()
    assert "C-GONE" in page and "P-GONE" in page and "C-KEEP" not in page

    with at(DAY):
        html = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="sv").content.decode()
    assert "inte aktiverad" in run_row(html, "(enforce)")

    with at(DAY):
        arming.arm(current_policy(), DAY, "kristina")
        schedule.run_if_due()
        html = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    row = run_row(html, "(enforce)")
    assert "dashboard-waiting" not in row and "dashboard-ok" in row


def run_row(html: str, label: str) -> str:
    panel = html[html.index('id="dashboard-runs"') :]
    start = panel.index(label)
    return panel[start : panel.index("</tr>", start)]


# -- the other deleting jobs of enforce --------------------------------------------------------


def test_login_events_mail_and_home_grants_wait_for_arming_too(provider, policies, settings):
    """Login events past their rule, a message in a Maildir past three months, and a home
    directory grant that has ended: all of enforce's, all left alone until armed."""
    mail = MaildirStore(policies.folder / "Maildir")
    old = datetime(2026, 6, 2, 10, tzinfo=UTC)
    mail.add(message("gammal@test", old, "kund@example.com"), old)
    policies.use(
        extra=(
            f'\n[[mailbox]]\nid = "salj"\nkind = "maildir"\ncategory = "correspondence"\n'
            f'country = "SE"\npath = "{mail.root}"\n'
        )
    )
    log = policies.folder / "auth.log"
    log.write_text(
        "".join(
            f"Nov 0{d} 2025 12:00:00 web1 sshd[1]: Failed password for invalid user x{d} from "
            f"203.0.113.{d} port 1 ssh2\n"
            for d in (1, 2, 3)
        )
    )
    Escrow.make(3, 2, datetime(2025, 11, 4, tzinfo=UTC))
    ingest_files([log], current_policy(), now=datetime(2025, 11, 4, tzinfo=UTC))
    assert LoginEvent.objects.count() == 3  # a year later, past login-logs (P12M)
    keep = Account.objects.get(ref="A-KEEP")
    AccessGrant.objects.create(
        owner=keep,
        grantee=Account.objects.get(ref="A-KEEP2"),
        agreement=Agreement.objects.get(ref="C-KEEP-A"),
        until=date(2026, 11, 20),
        grantee_uid=20002,
    )

    with at(DAY):
        schedule.run_if_due()
    assert LoginEvent.objects.count() == 3
    assert mail.message_ids() == {"gammal@test"}
    assert AccessGrant.objects.count() == 1
    skipped = entries("enforcement_skipped")[0].data["would_delete"]
    assert (skipped["login_events"], skipped["mail"], skipped["total"]) == (3, 1, 13)

    settings.GALLRA_ENFORCE_ARMED = True
    with at(NEXT_DAY):
        schedule.run_if_due()
    assert LoginEvent.objects.count() == 0
    assert mail.message_ids() == set()
    assert AccessGrant.objects.count() == 0


# -- for real: gallra init, import, serve ------------------------------------------------------


def test_serve_on_a_new_instance_deletes_nothing(tmp_path):
    """The issue's steps with the real console script: a new provider starts `gallra serve`
    after 03:00 and looks around; nothing is gone, the dry run still shows the nine."""
    gallra = Gallra(tmp_path / "data")
    gallra.env["GALLRA_ENFORCE_TIME"] = "00:00"
    gallra.env["GALLRA_SERVER_COUNTRY"] = "SE"
    gallra.run("init")
    document = tmp_path / "kunder.json"
    document.write_text(json.dumps(registry()))
    gallra.run("import", str(document))
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        server = subprocess.Popen(  # noqa: S603 - our own console script
            gallra.command("serve", "--port", str(free_port())),
            env=gallra.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            skipped = "SELECT count(*) FROM evidence_entry WHERE action = 'enforcement_skipped'"
            deadline = time.monotonic() + 120
            while not _rows(gallra, skipped)[0][0]:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.5)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    said = log.read_text()
    assert "gallra: enforcement is not armed (never armed): the daily run deletes nothing" in said
    assert "Traceback" not in said
    assert _rows(gallra, "SELECT count(*) FROM evidence_entry WHERE action = 'delete'") == [(0,)]
    assert _rows(gallra, "SELECT count(*) FROM registry_customer") == [(2,)]

    dry = json.loads(gallra.run("enforce", "--dry-run", "--format", "json").stdout)
    assert dry[0]["due"] == 10  # the nine, and M-LATER: long past on the real today
    checked = gallra.run("check", check=False)
    assert checked.returncode == 1
    assert "FAIL  enforcement: not armed (never armed) — 10 records would be" in checked.stdout
    refused = gallra.run("enforce", check=False)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    armed = gallra.run("enforce", "--arm", "--lang", "en")
    assert "10 records deleted" in armed.stdout
    assert _rows(gallra, "SELECT count(*) FROM registry_customer") == [(1,)]


def _rows(gallra: Gallra, sql: str) -> list[tuple]:
    with sqlite3.connect(gallra.data / "gallra.sqlite3") as db:
        return db.execute(sql).fetchall()
