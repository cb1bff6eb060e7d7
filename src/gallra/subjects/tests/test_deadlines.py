"""The deadline of a data-subject request to the day (GDPR Art. 12(3), Regulation 1182/71).

Every expected date below was worked out by hand from 1182/71 Art. 3 and checked against a
printed calendar (`ncal -M -b YEAR`, Easter with `ncal -e YEAR`), never by running the code:

* the day of receipt is not counted (Art. 3(1));
* a month ends on the same date in the last month, or on its last day when there is no such
  date (Art. 3(2)(c));
* a last day that is a Saturday, a Sunday or a Swedish public holiday (lag (1989:253) om
  allmänna helgdagar) moves to the next working day (Art. 3(4));
* an extension of N months makes the whole period 1+N months from receipt (Art. 12(3)).

Easter Sunday: 2024-03-31, 2025-04-20, 2026-04-05, 2027-03-28, 2028-04-16.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from gallra.policy.periods import easter_sunday, is_working_day, months_from, public_holidays
from gallra.subjects import cases
from gallra.subjects.identity import Identity
from gallra.subjects.models import SubjectRequest, deadline

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def noon(day: date) -> datetime:
    """Noon in Stockholm on `day`: when staff record what they told the subject that day."""
    return datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo("Europe/Stockholm"))


D = date.fromisoformat

# (received, due: the last day of the one-month period, why)
ONE_MONTH = [
    # the issue's examples
    ("2026-01-31", "2026-03-02", "no 31 Feb: Sat 28 Feb, Sun 1 Mar -> Mon"),
    ("2026-03-03", "2026-04-07", "Good Friday 3 Apr, Sat, Easter Sunday, Easter Monday -> Tue"),
    ("2026-11-25", "2026-12-28", "Christmas Day Fri 25, Boxing Day Sat 26, Sun 27 -> Mon"),
    ("2026-05-06", "2026-06-08", "national day Sat 6 Jun, Sun 7 -> Mon"),
    ("2027-01-29", "2027-03-01", "no 29 Feb 2027: Sun 28 Feb -> Mon 1 Mar"),
    # month ends and leap years
    ("2028-01-31", "2028-02-29", "leap year: 29 Feb 2028 is a Tuesday"),
    ("2024-01-30", "2024-02-29", "leap year: no 30 Feb, last day Thu 29 Feb"),
    ("2024-01-31", "2024-02-29", "leap year: no 31 Feb, last day Thu 29 Feb"),
    ("2025-01-31", "2025-02-28", "no 31 Feb 2025: Fri 28 Feb, a working day"),
    ("2026-02-28", "2026-03-30", "the same date, not the month's end: Sat 28 Mar -> Mon 30"),
    ("2026-03-31", "2026-04-30", "no 31 Apr: Thu 30 Apr (Valborg is no public holiday)"),
    ("2026-05-31", "2026-06-30", "no 31 Jun: Tue 30 Jun"),
    ("2026-08-31", "2026-09-30", "no 31 Sep: Wed 30 Sep"),
    ("2026-10-31", "2026-11-30", "no 31 Nov: Mon 30 Nov"),
    ("2026-12-31", "2027-02-01", "into the next year: Sun 31 Jan -> Mon 1 Feb"),
    # plain weekends and plain working days
    ("2026-07-15", "2026-08-17", "Sat 15 Aug, Sun 16 -> Mon"),
    ("2026-08-16", "2026-09-16", "Wed 16 Sep, a working day"),
    # every kind of Swedish public holiday, several years
    ("2025-12-01", "2026-01-02", "New Year's Day Thu 1 Jan 2026 -> Fri 2 Jan"),
    ("2025-12-06", "2026-01-07", "Epiphany Tue 6 Jan 2026 -> Wed"),
    ("2026-12-06", "2027-01-07", "Epiphany Wed 6 Jan 2027 -> Thu"),
    ("2026-03-06", "2026-04-07", "Easter Monday 6 Apr 2026 -> Tue"),
    ("2027-02-26", "2027-03-30", "Good Friday 26 Mar 2027, Sat, Easter Sunday, Easter Monday"),
    ("2027-02-28", "2027-03-30", "Easter Sunday 28 Mar 2027, Easter Monday 29 -> Tue"),
    ("2028-03-14", "2028-04-18", "Good Friday 14 Apr 2028, Sat, Easter Sunday, Easter Monday"),
    ("2028-03-17", "2028-04-18", "Easter Monday 17 Apr 2028 -> Tue"),
    ("2024-02-29", "2024-04-02", "Good Friday 29 Mar 2024, Sat, Easter Sunday, Easter Monday"),
    ("2026-04-01", "2026-05-04", "1 May 2026 a Friday, Sat, Sun -> Mon 4 May"),
    ("2028-04-01", "2028-05-02", "1 May 2028 a Monday -> Tue"),
    ("2026-04-14", "2026-05-15", "Ascension Day Thu 14 May 2026 (Easter + 39) -> Fri"),
    ("2027-04-06", "2027-05-07", "Ascension Day Thu 6 May 2027 -> Fri"),
    ("2028-04-25", "2028-05-26", "Ascension Day Thu 25 May 2028 -> Fri"),
    ("2025-04-29", "2025-05-30", "Ascension Day Thu 29 May 2025 -> Fri"),
    ("2026-04-24", "2026-05-25", "Whit Sunday 24 May 2026 -> Mon (Whit Monday: working day)"),
    ("2028-05-06", "2028-06-07", "national day Tue 6 Jun 2028 -> Wed"),
    ("2026-05-20", "2026-06-22", "Midsummer Day Sat 20 Jun 2026, Sun -> Mon"),
    ("2027-05-26", "2027-06-28", "Midsummer Day Sat 26 Jun 2027, Sun -> Mon"),
    ("2026-05-19", "2026-06-19", "Midsummer Eve Fri 19 Jun 2026: no public holiday (1989:253)"),
    ("2027-10-06", "2027-11-08", "All Saints' Day Sat 6 Nov 2027, Sun -> Mon"),
    ("2028-10-04", "2028-11-06", "All Saints' Day Sat 4 Nov 2028, Sun -> Mon"),
    ("2027-10-05", "2027-11-05", "Fri 5 Nov 2027, the eve of All Saints' Day: a working day"),
    ("2026-11-24", "2026-12-24", "Christmas Eve Thu 24 Dec 2026: no public holiday"),
    ("2028-11-25", "2028-12-27", "Christmas Day Mon 25 Dec 2028, Boxing Day Tue -> Wed"),
    ("2027-11-26", "2027-12-27", "Boxing Day Sun 26 Dec 2027 -> Mon"),
]

# (received, extended by, due: the last day of the 1+N-month period from receipt, why)
EXTENDED = [
    ("2026-01-31", 1, "2026-03-31", "two months: Tue 31 Mar"),
    ("2026-01-31", 2, "2026-04-30", "three months: Thu 30 Apr"),
    ("2026-01-03", 2, "2026-04-07", "three months: Good Friday 3 Apr 2026 -> Tue 7 Apr"),
    ("2026-10-31", 1, "2026-12-31", "two months: New Year's Eve Thu 31 Dec, no public holiday"),
    ("2026-07-31", 2, "2026-11-02", "three months: All Saints' Day Sat 31 Oct 2026 -> Mon"),
    ("2027-11-30", 2, "2028-02-29", "three months into a leap February: Tue 29 Feb 2028"),
    ("2027-01-29", 2, "2027-04-29", "three months: Thu 29 Apr 2027"),
    ("2026-11-06", 1, "2027-01-07", "two months: Epiphany Wed 6 Jan 2027 -> Thu"),
    ("2026-11-25", 1, "2027-01-25", "two months: Mon 25 Jan 2027, not Christmas's shift"),
]

# (received, told of the extension on, in time?, why)
TOLD = [
    ("2027-01-29", "2027-03-01", True, "the issue's example: the first month ends Mon 1 Mar"),
    ("2027-01-29", "2027-02-28", True, "the unshifted last day (a Sunday)"),
    ("2027-01-29", "2027-03-02", False, "a day after the first month ended"),
    ("2026-03-03", "2026-04-07", True, "the first month ends Tue 7 Apr, after Easter"),
    ("2026-03-03", "2026-04-06", True, "on Easter Monday, within the shifted month"),
    ("2026-03-03", "2026-04-08", False, "a day after"),
    ("2026-01-31", "2026-03-02", True, "the first month ends Mon 2 Mar"),
    ("2026-01-31", "2026-03-03", False, "a day after"),
    ("2025-01-31", "2025-02-28", True, "Fri 28 Feb 2025: no shift, the last day"),
    ("2025-01-31", "2025-03-01", False, "a day after, although a Saturday"),
    ("2026-03-03", "2026-03-03", True, "the day of receipt"),
    ("2026-03-03", "2026-03-02", False, "before the request was received"),
]


@pytest.mark.parametrize(("received", "due", "why"), ONE_MONTH)
def test_one_month_from_receipt(received, due, why):
    assert months_from(D(received), 1) == D(due), why
    assert deadline(D(received)) == D(due), why


@pytest.mark.parametrize(("received", "months", "due", "why"), EXTENDED)
def test_an_extended_deadline_runs_from_receipt(received, months, due, why):
    assert deadline(D(received), months) == D(due), why


def test_the_tables_are_as_long_as_the_issue_asks():
    assert len(ONE_MONTH) + len(EXTENDED) + len(TOLD) >= 30
    assert len({r for r, _, _ in ONE_MONTH}) == len(ONE_MONTH)  # no date twice


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, "2024-03-31"),
        (2025, "2025-04-20"),
        (2026, "2026-04-05"),
        (2027, "2027-03-28"),
        (2028, "2028-04-16"),
        (2029, "2029-04-01"),
        (2030, "2030-04-21"),
        (2038, "2038-04-25"),
        (2285, "2285-03-22"),
        (1943, "1943-04-25"),
    ],
)
def test_easter_sunday(year, easter):
    # 2285 and 1943: the earliest and latest Easter Sundays there can be (22 Mar, 25 Apr).
    assert easter_sunday(year) == D(easter)


# Every public holiday of 1989:253 other than the Sundays, by hand for three years.
HOLIDAYS = {
    2026: [
        "01-01",
        "01-06",
        "04-03",
        "04-05",
        "04-06",
        "05-01",
        "05-14",
        "05-24",
        "06-06",
        "06-20",
        "10-31",
        "12-25",
        "12-26",
    ],
    2027: [
        "01-01",
        "01-06",
        "03-26",
        "03-28",
        "03-29",
        "05-01",
        "05-06",
        "05-16",
        "06-06",
        "06-26",
        "11-06",
        "12-25",
        "12-26",
    ],
    2028: [
        "01-01",
        "01-06",
        "04-14",
        "04-16",
        "04-17",
        "05-01",
        "05-25",
        "06-04",
        "06-06",
        "06-24",
        "11-04",
        "12-25",
        "12-26",
    ],
}


@pytest.mark.parametrize("year", sorted(HOLIDAYS))
def test_swedish_public_holidays(year):
    assert public_holidays(year) == {D(f"{year}-{md}") for md in HOLIDAYS[year]}


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-06-19", True),  # midsommarafton
        ("2026-12-24", True),  # julafton
        ("2026-12-31", True),  # nyårsafton
        ("2026-05-25", True),  # annandag pingst: no longer a public holiday (since 2005)
        ("2026-04-30", True),  # valborgsmässoafton
        ("2026-04-02", True),  # skärtorsdagen
        ("2026-04-03", False),
        ("2026-05-14", False),
        ("2026-06-06", False),
        ("2026-03-07", False),
        ("2026-03-08", False),
        ("2026-03-09", True),
    ],
)
def test_working_days(day, working):
    assert is_working_day(D(day)) is working


def test_a_period_has_at_least_one_month():
    for months in (0, -1):
        with pytest.raises(ValueError, match="at least one month"):
            months_from(D("2026-01-31"), months)


# -- the stored request --------------------------------------------------------------------


def open_on(received: str) -> SubjectRequest:
    return cases.open_request(
        "access", Identity.of("astrid@exempel.example"), received=D(received), now=NOW, actor="test"
    )


@pytest.mark.django_db
def test_a_registered_request_stores_its_deadline_and_is_overdue_only_after_it():
    for received, due, why in ONE_MONTH:
        request = open_on(received)
        request.refresh_from_db()
        assert request.due == D(due), why
        assert request.first_due() == D(due), why
        assert not request.is_overdue(D(due)), why  # the period ends at the end of its day
        assert request.is_overdue(date.fromordinal(D(due).toordinal() + 1)), why


@pytest.mark.django_db
@pytest.mark.parametrize(("received", "months", "due", "why"), EXTENDED)
def test_an_extension_told_in_time_stores_the_extended_deadline(received, months, due, why):
    request = open_on(received)
    told = D(received)
    cases.extend(request, months, "Begäran rör flera system.", told, now=noon(told), actor="t")
    request.refresh_from_db()
    assert (request.due, request.extension_months) == (D(due), months), why


@pytest.mark.django_db
@pytest.mark.parametrize(("received", "told", "in_time", "why"), TOLD)
def test_told_within_the_first_month(received, told, in_time, why):
    request = open_on(received)
    before = request.due
    if in_time:
        cases.extend(request, 2, "Begäran rör flera system.", D(told), now=noon(D(told)), actor="t")
        request.refresh_from_db()
        assert request.extension_told_on == D(told) and request.due > before, why
    else:
        with pytest.raises(cases.CaseError, match="first month|before the request"):
            cases.extend(
                request, 2, "Begäran rör flera system.", D(told), now=noon(D(told)), actor="t"
            )
        request.refresh_from_db()
        assert (request.due, request.extension_months) == (before, 0), why


@pytest.mark.django_db
def test_an_extension_cannot_be_told_on_a_day_still_to_come():
    """Recording "told on Friday" on Wednesday would claim a notice nobody has given yet."""
    request = open_on("2027-01-29")
    with pytest.raises(cases.CaseError, match="has not come yet"):
        cases.extend(
            request, 2, "Många system.", D("2027-02-05"), now=noon(D("2027-02-04")), actor="t"
        )
    request.refresh_from_db()
    assert request.extension_months == 0
    cases.extend(request, 2, "Många system.", D("2027-02-05"), now=noon(D("2027-02-05")), actor="t")
    request.refresh_from_db()
    assert request.extension_told_on == D("2027-02-05")


# -- every place that shows the date shows the same one -------------------------------------


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("subject", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_admin_cli_api_and_dashboard_show_the_same_date(admin_client, admin_user):
    from gallra.api.models import ApiToken

    text = run(
        "request",
        "--type",
        "access",
        "--email",
        "astrid@exempel.example",
        "--received",
        "2026-03-03",
    )
    ref = re.match(r"(\S+) registered, due (\S+)", text).group(1)
    assert text.strip().endswith("due 2026-04-07")  # Good Friday and Easter: Tuesday 7 April
    request = SubjectRequest.objects.get(ref=ref)

    # the command line, as text and as JSON
    assert "due 2026-04-07" in run("show", ref)
    shown = json.loads(run("show", ref, "--format", "json"))
    assert (shown["due"], shown["first_month_ends"]) == ("2026-04-07", "2026-04-07")
    listed = {r["ref"]: r for r in json.loads(run("list", "--format", "json"))}
    assert listed[ref]["due"] == "2026-04-07"
    assert any(line.startswith("2026-04-07") and ref in line for line in run("list").splitlines())

    # the admin: the request's page and the list, in Swedish and in English
    for lang, written in (("sv", "7 april 2026"), ("en", "April 7, 2026")):
        page = admin_client.get(
            f"/admin/subjects/subjectrequest/{request.pk}/change/", HTTP_ACCEPT_LANGUAGE=lang
        ).content.decode()
        assert written in page, lang
        listing = admin_client.get(
            "/admin/subjects/subjectrequest/", HTTP_ACCEPT_LANGUAGE=lang
        ).content.decode()
        row = listing[listing.index(ref) :]
        assert written in row[: row.index("</tr>")], lang

    # the API
    token = ApiToken.issue(admin_user.username, admin_user, now=NOW, actor="test")
    answer = admin_client.get(f"/api/v1/requests/{ref}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 200 and answer.json()["due"] == "2026-04-07"

    # the dashboard
    front = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    panel = front[front.index('id="dashboard-requests"') :]
    row = panel[panel.index(ref) :]
    assert "2026-04-07" in row[: row.index("</tr>")]

    # extended by two months: every place moves to the same new date
    run("extend", ref, "--months", "2", "--reason", "three systems", "--told", "2026-04-07")
    # three months from 3 March: Wednesday 3 June 2026, a working day
    assert json.loads(run("show", ref, "--format", "json"))["due"] == "2026-06-03"
    answer = admin_client.get(f"/api/v1/requests/{ref}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.json()["due"] == "2026-06-03"
    page = admin_client.get(
        f"/admin/subjects/subjectrequest/{request.pk}/change/", HTTP_ACCEPT_LANGUAGE="sv"
    ).content.decode()
    assert "3 juni 2026" in page
    front = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    panel = front[front.index('id="dashboard-requests"') :]
    assert "2026-06-03" in panel[panel.index(ref) :][:400]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("received", "says"),
    [
        ("9999-12-31", "past the calendar"),
        ("9999-10-31", "past the calendar"),  # one month fits; the extended three do not
        ("2026-02-29", "not a date"),
        ("2026-13-01", "not a date"),
        ("31/01/2026", "not a date"),
        ("2026-01-31\x00", "not a date"),
        ("9" * 5000, "not a date"),
    ],
)
def test_a_received_date_without_a_deadline_is_refused(received, says):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=says) as refused:
        run("request", "--type", "access", "--email", "a@exempel.example", "--received", received)
    assert refused.value.returncode == 2
    assert not SubjectRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("told", ["2026-02-30", "yesterday", "", "9999-99-99"])
def test_a_told_date_that_is_no_date_is_refused(told):
    from django.core.management.base import CommandError

    ref = open_on("2026-01-31").ref
    with pytest.raises(CommandError, match="not a date") as refused:
        run("extend", ref, "--months", "2", "--reason", "three systems", "--told", told)
    assert refused.value.returncode == 2
    assert SubjectRequest.objects.get(ref=ref).due == D("2026-03-02")
