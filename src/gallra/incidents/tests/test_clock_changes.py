"""The 72 hours of Art. 33(1) are 72 real hours, also across the clock changes.

Stockholm goes from CET (+01:00) to CEST (+02:00) at 01:00 UTC on the last Sunday of March
(02:00 becomes 03:00) and back at 01:00 UTC on the last Sunday of October (03:00 becomes
02:00). The changes of 2026 and 2027: 29 March, 25 October, 28 March, 31 October.

Each case is an incident known at an instant near a change; its deadline is worked out by
hand: known_at in UTC + 72 h, then written as Stockholm time. At the deadline minus one
second, at the deadline and one second after it, `gallra incidents` must say the same in
its exit status, its text and its JSON: with `--at` as staff type it (Stockholm time, or with
an offset where the Stockholm time happens twice) and without `--at`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from gallra.incidents.models import Incident, overdue_notifications
from gallra.instance.arguments import local_time

pytestmark = pytest.mark.django_db

# (label, became aware (UTC), deadline (UTC), deadline as the text shows it,
#  [deadline - 1 s, deadline, deadline + 1 s] as typed for --at)
CASES = [
    # 29 March 2026: aware just before and just after 02:00 CET -> 03:00 CEST
    (
        "2026-03 aware 01:59 CET",
        "2026-03-29T00:59:00",
        "2026-04-01T00:59:00",
        "2026-04-01 02:59 CEST",
        ["2026-04-01T02:58:59", "2026-04-01T02:59:00", "2026-04-01T02:59:01"],
    ),
    (
        "2026-03 aware 03:01 CEST",
        "2026-03-29T01:01:00",
        "2026-04-01T01:01:00",
        "2026-04-01 03:01 CEST",
        ["2026-04-01T03:00:59", "2026-04-01T03:01:00", "2026-04-01T03:01:01"],
    ),
    # ... and deadlines on that night: the last second of CET, then 03:00 CEST
    (
        "2026-03 due at the change",
        "2026-03-26T01:00:00",
        "2026-03-29T01:00:00",
        "2026-03-29 03:00 CEST",
        ["2026-03-29T01:59:59", "2026-03-29T03:00:00", "2026-03-29T03:00:01"],
    ),
    (
        "2026-03 due after the change",
        "2026-03-26T01:30:00",
        "2026-03-29T01:30:00",
        "2026-03-29 03:30 CEST",
        ["2026-03-29T03:29:59", "2026-03-29T03:30:00", "2026-03-29T03:30:01"],
    ),
    # 25 October 2026: aware just before and just after 03:00 CEST -> 02:00 CET
    (
        "2026-10 aware 02:59 CEST",
        "2026-10-25T00:59:00",
        "2026-10-28T00:59:00",
        "2026-10-28 01:59 CET",
        ["2026-10-28T01:58:59", "2026-10-28T01:59:00", "2026-10-28T01:59:01"],
    ),
    (
        "2026-10 aware 03:01 CET",
        "2026-10-25T02:01:00",
        "2026-10-28T02:01:00",
        "2026-10-28 03:01 CET",
        ["2026-10-28T03:00:59", "2026-10-28T03:01:00", "2026-10-28T03:01:01"],
    ),
    # ... and deadlines in the hour that happens twice: the first 02:30, then the second
    (
        "2026-10 due at the first 02:30",
        "2026-10-22T00:30:00",
        "2026-10-25T00:30:00",
        "2026-10-25 02:30 CEST",
        ["2026-10-25T02:29:59+02:00", "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:01+02:00"],
    ),
    (
        "2026-10 due at the second 02:30",
        "2026-10-22T01:30:00",
        "2026-10-25T01:30:00",
        "2026-10-25 02:30 CET",
        ["2026-10-25T02:29:59+01:00", "2026-10-25T02:30:00+01:00", "2026-10-25T02:30:01+01:00"],
    ),
    # 28 March 2027
    (
        "2027-03 aware 01:30 CET",
        "2027-03-28T00:30:00",
        "2027-03-31T00:30:00",
        "2027-03-31 02:30 CEST",
        ["2027-03-31T02:29:59", "2027-03-31T02:30:00", "2027-03-31T02:30:01"],
    ),
    (
        "2027-03 aware 03:30 CEST",
        "2027-03-28T01:30:00",
        "2027-03-31T01:30:00",
        "2027-03-31 03:30 CEST",
        ["2027-03-31T03:29:59", "2027-03-31T03:30:00", "2027-03-31T03:30:01"],
    ),
    # 31 October 2027: aware at the first and at the second 02:30
    (
        "2027-10 aware the first 02:30",
        "2027-10-31T00:30:00",
        "2027-11-03T00:30:00",
        "2027-11-03 01:30 CET",
        ["2027-11-03T01:29:59", "2027-11-03T01:30:00", "2027-11-03T01:30:01"],
    ),
    (
        "2027-10 aware the second 02:30",
        "2027-10-31T01:30:00",
        "2027-11-03T01:30:00",
        "2027-11-03 02:30 CET",
        ["2027-11-03T02:29:59", "2027-11-03T02:30:00", "2027-11-03T02:30:01"],
    ),
    # ... and a deadline at the change itself: 02:59:59 CEST, then 02:00:00 CET
    (
        "2027-10 due at the change",
        "2027-10-28T01:00:00",
        "2027-10-31T01:00:00",
        "2027-10-31 02:00 CET",
        ["2027-10-31T02:59:59+02:00", "2027-10-31T02:00:00+01:00", "2027-10-31T02:00:01+01:00"],
    ),
]

# At deadline - 1 s, at the deadline and 1 s after: (exit status, clock text, seconds left)
EXPECTED = [(0, "0 h left", 1), (0, "0 h left", 0), (1, "OVERDUE by 1 h", -1)]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def run(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("incidents", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


def breach(known_at: str) -> Incident:
    return Incident.objects.create(title="Stolen laptop", known_at=utc(known_at), opened_by="vd")


def check(incident: Incident, deadline_text: str, expected, *args: str) -> None:
    code, seconds = expected[0], expected[2]
    code_text, text = run(*args)
    code_json, out = run(*args, "--format", "json")
    (row,) = json.loads(out)
    assert (code_text, code_json) == (code, code)
    assert f"deadline {deadline_text}  {expected[1]}  " in text
    late = "1 notification" if code == 1 else f"{code} notifications"
    assert f"1 open incident, {late} to IMY overdue" in text
    assert row["overdue"] is bool(code) and row["seconds_left"] == seconds
    assert row["hours_left"] <= 0 if code else row["hours_left"] >= 0
    assert run(*args, "--quiet")[0] == code


@pytest.mark.parametrize(
    ("label", "known", "deadline", "shown", "ats"), CASES, ids=[c[0] for c in CASES]
)
def test_with_at_as_staff_type_it(label, known, deadline, shown, ats):
    incident = breach(known)
    assert incident.deadline == utc(deadline)
    (row,) = json.loads(run("--at", ats[1], "--format", "json")[1])
    assert datetime.fromisoformat(row["deadline"]) == utc(deadline)
    assert datetime.fromisoformat(row["known_at"]) == utc(known)
    for at, expected in zip(ats, EXPECTED, strict=True):
        check(incident, shown, expected, "--at", at)
        # The same instant with an explicit UTC offset answers the same.
        check(incident, shown, expected, "--at", local_time(at).isoformat())
        # The database's answer for cron and other schedulers agrees.
        late = list(overdue_notifications(local_time(at)))
        assert late == ([incident] if expected[0] else []), at


@pytest.mark.parametrize(
    ("label", "known", "deadline", "shown", "ats"), CASES, ids=[c[0] for c in CASES]
)
def test_without_at(monkeypatch, label, known, deadline, shown, ats):
    incident = breach(known)
    for at, expected in zip(ats, EXPECTED, strict=True):
        # The machine's clock cannot be set in a test, so Django's is: the command reads
        # the time from timezone.now() when no --at is given.
        monkeypatch.setattr(timezone, "now", lambda at=at: local_time(at))
        check(incident, shown, expected)


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("2026-03-29T02:00", "does not exist"),
        ("2026-03-29T02:59:59", "does not exist"),
        ("2027-03-28T02:30", "does not exist"),
        ("2026-10-25T02:00", "happens twice"),
        ("2026-10-25T02:30", "2026-10-25T02:30:00+02:00 (the first time)"),
        ("2027-10-31T02:59:59", "2027-10-31T02:59:59+01:00 (the second)"),
    ],
)
def test_a_stockholm_time_that_is_not_one_instant_is_refused(typed, says):
    breach("2026-01-01T00:00:00")
    code, out = run("--at", typed)
    assert code == 2 and out == ""
    with pytest.raises(
        CommandError, match=says.replace("+", r"\+").replace("(", r"\(").replace(")", r"\)")
    ):
        call_command("incidents", "--at", typed, stdout=StringIO())


@pytest.mark.parametrize(
    ("typed", "instant"),
    [
        ("2026-03-29T01:59:59", "2026-03-29T00:59:59"),  # the last second of CET
        ("2026-03-29T03:00", "2026-03-29T01:00:00"),  # the first of CEST
        ("2026-10-25T01:59:59", "2026-10-24T23:59:59"),  # before the repeated hour: CEST
        ("2026-10-25T03:00", "2026-10-25T02:00:00"),  # after it: CET
        ("2026-10-25T02:30+01:00", "2026-10-25T01:30:00"),
        ("2026-10-25T00:30Z", "2026-10-25T00:30:00"),
        ("2026-07-01", "2026-06-30T22:00:00"),
    ],  # a date alone: midnight in Stockholm
)
def test_how_at_is_read(typed, instant):
    assert local_time(typed) == utc(instant)


@pytest.mark.parametrize(
    "typed",
    [
        "0001-01-01T00:00",
        "9999-12-31T23:59-05:00",
        "2026-13-01",
        "2026-02-29T12:00",
        "yesterday",
        "\x00",
        "2026-03-29T02:30:00.5",
        "2026-10-25T02:00:00.000001",
        "9" * 5000,
    ],
)
def test_hostile_times_are_refused_with_exit_2(typed):
    breach("2026-01-01T00:00:00")
    assert run("--at", typed) == (2, "")
    assert run("--at", typed, "--format", "json") == (2, "")


@pytest.mark.parametrize(
    ("typed", "code"), [("0001-01-01T00:00+00:00", 0), ("9999-12-31T22:59:59Z", 1)]
)
def test_the_ends_of_time_with_an_offset_are_read(typed, code):
    breach("2026-01-01T00:00:00")
    assert run("--at", typed)[0] == code
    (row,) = json.loads(run("--at", typed, "--format", "json")[1])
    assert row["overdue"] is bool(code)
