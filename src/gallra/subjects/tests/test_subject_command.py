"""`gallra subject ...` from registration to certificate, and its refusals."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gallra.subjects.models import SubjectRequest
from gallra.subjects.tests.conftest import ANNA, BO


def run(*args) -> str:
    out = io.StringIO()
    call_command("subject", *args, stdout=out)
    return out.getvalue()


def register(kind: str, email: str = ANNA["email"]) -> str:
    out = run("request", "--type", kind, "--email", email)
    return re.match(r"(DSR-\d{4}-[0-9A-HJKMNP-TV-Z]{8}) registered", out).group(1)


def test_access_then_erasure_from_the_command_line(connected, registry, tmp_path):
    ref = register("access")
    with pytest.raises(CommandError, match="not verified") as refused:
        run("export", ANNA["email"], "--out", str(tmp_path / "a.zip"))
    assert refused.value.returncode == 2 and not (tmp_path / "a.zip").exists()
    run("verify", ref, "--how", "called back on the number on record", "--by", "lisa")
    assert "wrote" in run("export", ANNA["email"], "--out", str(tmp_path / "a.zip"))
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert ANNA["email"] in archive.read("data.json").decode()
    assert SubjectRequest.objects.get(ref=ref).status == "done"

    ref = register("erasure")
    run("verify", ref, "--how", "signed letter", "--by", "lisa")
    out = run("erase", ANNA["email"], "--certificate", str(tmp_path / "cert.html"))
    assert f"{ref}: done" in out
    certificate = (tmp_path / "cert.html").read_text()
    assert ref in certificate and ANNA["email"] not in certificate
    assert "Fakturor" in certificate or "invoice" in certificate
    shown = run("show", ref)
    assert '"kept"' in shown and "2032-12-31" in shown


def test_erase_exits_1_while_a_store_is_down_and_0_after(connected, registry, monkeypatch):
    ref = register("erasure")
    run("verify", ref, "--how", "signed letter", "--by", "lisa")
    monkeypatch.setenv("GALLRA_TEST_SUPPORT_URL", connected.urls["support"].replace("3306", "3399"))
    with pytest.raises(CommandError, match="stays open") as failed:
        run("erase", ANNA["email"])
    assert failed.value.returncode == 1
    assert "OVERDUE" not in run("list") and ref in run("list")
    monkeypatch.setenv("GALLRA_TEST_SUPPORT_URL", connected.urls["support"])
    assert f"{ref}: done" in run("erase", ANNA["email"])
    assert ref not in run("list")


def test_refusals_name_what_is_wrong(registry, db):
    with pytest.raises(CommandError, match="no open erasure request for"):
        run("erase", BO["email"])
    with pytest.raises(CommandError, match="not a valid e-mail"):
        run("erase", "bo.ek@")
    with pytest.raises(CommandError, match="no request 'DSR-1999-0001'"):
        run("show", "DSR-1999-0001")
    with pytest.raises(CommandError, match="--field"):
        run("request", "--type", "rectification", "--email", BO["email"])
    assert not SubjectRequest.objects.exists()
