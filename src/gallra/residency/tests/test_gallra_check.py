"""`gallra check`: each place data goes is where the policy allows, or it fails, naming it.
(The rest of the production checklist: instance/tests/test_production_check.py.)"""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.evidence.models import Entry


def check() -> str:
    """What `gallra check` says; this instance lacks the rest of the production checklist
    (an escrow key, backups), so it exits 1 whatever its places."""
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check", stdout=out)
    return out.getvalue()


@pytest.fixture
def jufcorp(settings, monkeypatch, tmp_path):
    """JufCorp's installation: one server in Sweden, backups on it, a local SMTP relay."""
    monkeypatch.setenv("GALLRA_SERVER_COUNTRY", "SE")
    settings.GALLRA_BACKUP_REPOSITORY = str(tmp_path / "repository")
    settings.EMAIL_HOST = "127.0.0.1"
    settings.GALLRA_ENFORCE_ARMED = True  # armed: this module is about places (test_arming.py)


def test_the_jufcorp_places_pass(db, jufcorp):
    text = check()
    assert "ok    database" in text and "(on this server): SE" in text
    assert "ok    backup repository" in text and "ok    SMTP relay 127.0.0.1" in text
    assert Entry.objects.get(action="residency_checked").data == {"failed": []}


def test_a_backup_target_outside_sweden_fails_naming_it(db, jufcorp, settings, monkeypatch):
    settings.GALLRA_BACKUP_REPOSITORY = "sftp:backup@lagring.example.de:/srv/restic"
    monkeypatch.setenv("GALLRA_BACKUP_COUNTRY", "DE")
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 of 3 places fail the policy") as failed:
        call_command("check", stdout=out)
    assert failed.value.returncode == 1
    assert (
        "FAIL  backup repository sftp:backup@lagring.example.de:/srv/restic: DE — outside "
        "the allowed countries (SE)"
    ) in out.getvalue()


def test_a_place_that_says_nowhere_where_it_is_fails(db, settings, tmp_path):
    settings.EMAIL_HOST = "127.0.0.1"
    out = io.StringIO()
    with pytest.raises(CommandError, match="2 of 2 places fail"):
        call_command("check", stdout=out)
    assert "set GALLRA_SERVER_COUNTRY" in out.getvalue()


def test_a_relay_run_by_an_unlisted_company_fails(db, jufcorp, settings, monkeypatch):
    settings.EMAIL_HOST = "smtp.relay.example"
    monkeypatch.setenv("GALLRA_SMTP_COUNTRY", "SE")
    monkeypatch.setenv("GALLRA_SMTP_OPERATOR", "mailrelay-ab")
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("check", stdout=out)
    assert "run by 'mailrelay-ab', which the policy does not list as a recipient" in out.getvalue()


def test_the_admin_front_page_shows_the_last_check_red_with_what_failed(
    admin_client, jufcorp, settings, monkeypatch
):
    settings.GALLRA_BACKUP_REPOSITORY = "sftp:backup@lagring.example.de:/srv/restic"
    monkeypatch.setenv("GALLRA_BACKUP_COUNTRY", "DE")
    with pytest.raises(CommandError):
        call_command("check", stdout=io.StringIO())
    row = check_row(admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="sv").content.decode())
    assert "dashboard-failed" in row and "misslyckades" in row
    assert "backup repository sftp:backup@lagring.example.de:/srv/restic: outside" in row

    monkeypatch.setenv("GALLRA_BACKUP_COUNTRY", "SE")
    check()
    row = check_row(admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="sv").content.decode())
    assert "dashboard-ok" in row and "godkänd" in row and "dashboard-failed" not in row


def check_row(html: str) -> str:
    """The row of `gallra check` in the front page's daily checks."""
    panel = html[html.index('id="dashboard-runs"') :]
    start = panel.index("(gallra check)")
    return panel[start : panel.index("</tr>", start)]
