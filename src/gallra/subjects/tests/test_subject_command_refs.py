"""`gallra subject show|verify|extend EMAIL`: a request named by the subject's address is
their oldest open one; `--told today`; `request --format json` gives the ref to script with."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gallra.subjects.models import SubjectRequest
from gallra.subjects.tests.conftest import ANNA


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("subject", *args, stdout=out)
    return out.getvalue()


def test_a_request_is_named_by_its_ref_or_by_the_subjects_address(registry, db):
    first = json.loads(
        run("request", "--type", "access", "--email", ANNA["email"], "--format", "json")
    )
    second = json.loads(
        run("request", "--type", "erasure", "--email", ANNA["email"], "--format", "json")
    )
    assert first["email"] == ANNA["email"] and first["ref"] != second["ref"]

    assert run("show", ANNA["email"].upper()).startswith(first["ref"])  # the oldest open one
    said = run("verify", ANNA["email"], "--how", "signed letter", "--by", "lisa")
    assert said.strip() == f"{first['ref']}: identity verified"
    assert SubjectRequest.objects.get(ref=first["ref"]).is_verified
    assert not SubjectRequest.objects.get(ref=second["ref"]).is_verified

    run("extend", ANNA["email"], "--months", "2", "--reason", "three systems", "--told", "today")
    extended = SubjectRequest.objects.get(ref=first["ref"])
    assert (extended.extension_months, extended.extension_told_on) == (2, timezone.localdate())

    shown = json.loads(run("show", second["ref"], "--format", "json"))
    assert shown["ref"] == second["ref"] and shown["extension_months"] == 0


def test_an_address_without_a_request_is_refused(registry, db):
    with pytest.raises(CommandError, match="no open request from") as refused:
        run("verify", ANNA["email"], "--how", "signed letter")
    assert refused.value.returncode == 2
    with pytest.raises(CommandError, match="not a date") as refused:
        run("request", "--type", "access", "--email", ANNA["email"], "--received", "igår")
    assert refused.value.returncode == 2
