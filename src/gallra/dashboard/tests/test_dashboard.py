"""The admin's front page: every panel at a glance, every number a link to its list, no
personal data, and a fixed number of queries whatever the size of the registry."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gallra.backups.models import BackupRun
from gallra.dashboard.models import Forecast
from gallra.dashboard.tests.conftest import EMAIL_DOMAIN, NAME, fill, months_before
from gallra.evidence.log import append
from gallra.instance.demo import years_before
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.retention import arming
from gallra.retention.models import EnforcementRun
from gallra.retention.planner import due_date

SVG = "{http://www.w3.org/2000/svg}"
PANELS = (
    "dashboard-runs",
    "dashboard-deletions",
    "dashboard-requests",
    "dashboard-tasks",
    "dashboard-alerts",
    "dashboard-holds",
)


def front_page(client, lang: str = "en") -> str:
    response = client.get("/admin/", HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.content.decode()


def panel(html: str, panel_id: str) -> str:
    start = html.index(f'id="{panel_id}"')
    return html[start : html.index("</section>", start)]


def refs(html: str) -> set[str]:
    return set(re.findall(r"\b(?:SR|C|H)-\d+\b", html))


def chart(html: str) -> ET.Element:
    start = html.rindex("<svg", 0, html.index('class="dashboard-chart"'))
    end = html.index("</svg>", start) + len("</svg>")
    return ET.fromstring(html[start:end])  # noqa: S314 - our own page, just rendered


def test_every_panel_shows_without_personal_data_above_the_app_list(ceo, staff, today):
    fill(12, today)
    for lang in ("sv", "en"):
        html = front_page(ceo, lang)
        for panel_id in PANELS:
            assert f'id="{panel_id}"' in html
        assert NAME not in html and EMAIL_DOMAIN not in html and "greta" not in html
        assert html.index('id="gallra-dashboard"') < html.index('class="app-registry')
    assert "Data-subject requests" in front_page(ceo, "en")


def test_the_number_of_queries_does_not_grow_with_the_registry(ceo, staff, today):
    fill(5, today)
    front_page(ceo)  # caches warmed (content types, the policy), the forecast counted
    with CaptureQueriesContext(connection) as small:
        front_page(ceo)
    Forecast.objects.update(state="")  # as a record saved in the admin does
    with CaptureQueriesContext(connection) as small_count:
        front_page(ceo)
    fill(45, today, first=5)
    with CaptureQueriesContext(connection) as large_count:  # new records: counted again
        front_page(ceo)
    with CaptureQueriesContext(connection) as large:
        html = front_page(ceo)
    assert len(large) == len(small) < len(small_count) == len(large_count)
    for panel_id in ("dashboard-requests", "dashboard-alerts", "dashboard-holds"):
        shown = panel(html, panel_id)
        assert shown.count("<tr>") == 1 + 10  # the header and at most ten rows
        assert "Show all" in shown


def test_the_chart_has_a_bar_segment_per_day_and_rule_with_its_count(ceo, today):
    policy = {r.id: r for r in current_policy().rule}
    customer_rule, mail_rule = (
        policy["customer-data-after-relationship"],
        policy["correspondence-and-sales"],
    )
    ended = years_before(today + timedelta(days=7), 1)
    received = months_before(today + timedelta(days=3), 3)
    import_document(
        {
            "customers": [
                {
                    "ref": "C-1",
                    "name": f"{NAME} AB",
                    "agreements": [
                        {"ref": "C-1-A", "start": "2015-01-01", "end": ended.isoformat()}
                    ],
                    "people": [
                        {
                            "ref": "C-1-P",
                            "first_name": "Greta",
                            "last_name": NAME,
                            "roles": ["contact"],
                        }
                    ],
                    "invoices": [
                        {
                            "ref": "C-1-F",
                            "number": "1",
                            "issued": "2015-01-15",
                            "fiscal_year_end": "2015-12-31",
                            "amount": "100",
                        }
                    ],
                }
            ],
            "correspondence": [
                {"ref": "M-1", "received": received.isoformat(), "sender": "a@b.example"},
                {"ref": "M-2", "received": received.isoformat(), "sender": "a@b.example"},
                {"ref": "M-3", "received": "2020-01-01", "sender": "a@b.example"},
            ],
        }
    )
    expected = {
        (today.isoformat(), "accounting-records"): 1,  # the invoice: overdue, so today
        (today.isoformat(), "correspondence-and-sales"): 1,  # M-3
        (max(due_date(mail_rule, received), today).isoformat(), "correspondence-and-sales"): 2,
        (due_date(customer_rule, ended).isoformat(), "customer-data-after-relationship"): 3,
    }
    svg = chart(front_page(ceo))
    found = {}
    for link in svg.iter(f"{SVG}a"):
        rect = link.find(f"{SVG}rect")
        if rect is None or rect.get("class") != "dashboard-segment":
            continue
        title = rect.find(f"{SVG}title").text
        day, rule, count = re.match(r"(\d{4}-\d\d-\d\d), ([\w-]+): (\d+) ", title).groups()
        assert (day, rule) not in found
        found[(day, rule)] = int(count)
        # The bar leads to the records behind it, by ref.
        listed = ceo.get(link.get("href")).content.decode()
        assert listed.count("<tr><td>") == int(count)
    assert found == expected
    fills = {r.get("fill") for r in svg.iter(f"{SVG}rect") if r.get("class") == "dashboard-segment"}
    assert len(fills) == 3  # one colour per rule


def test_each_count_links_to_the_list_behind_it(ceo, staff, today):
    fill(30, today)
    html = front_page(ceo)
    requests = panel(html, "dashboard-requests")
    overdue_link = re.search(r'<a href="([^"]+)"[^>]*>(\d+)</a> overdue', requests)
    href, count = overdue_link.group(1).replace("&amp;", "&"), int(overdue_link.group(2))
    assert count == 10  # due from ten days ago to yesterday
    listed = refs(ceo.get(href).content.decode())
    assert {r for r in listed if r.startswith("SR-")} == {f"SR-{i}" for i in range(10)}

    holds = panel(html, "dashboard-holds")
    all_link = re.search(r'<a href="([^"]+)">(\d+)</a>', holds)
    page = ceo.get(all_link.group(1).replace("&amp;", "&")).content.decode()
    assert int(all_link.group(2)) == 30
    assert {r for r in refs(page) if r.startswith("H-")} == {f"H-{i}" for i in range(30)}

    tasks = panel(html, "dashboard-tasks")
    assert "tekniker1" in tasks and "tekniker2" in tasks and "vd" in tasks
    row = tasks[tasks.index("<td>tekniker1</td>") :]
    href, count = re.search(r'<a href="([^"]+)">(\d+)</a>', row).groups()
    page = ceo.get(href.replace("&amp;", "&")).content.decode()
    assert int(count) == 10
    assert {r for r in refs(page) if r.startswith("C-")} == {f"C-{i}" for i in range(1, 30, 3)}

    alerts = panel(html, "dashboard-alerts")
    href, count = re.search(r'<a href="([^"]+)"[^>]*>(\d+)</a>', alerts).groups()
    assert int(count) == 30
    assert (
        "30 login alerts"
        in ceo.get(href.replace("&amp;", "&"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )


def run_row(html: str, label: str) -> str:
    runs = panel(html, "dashboard-runs")
    start = runs.index(label)
    return runs[start : runs.index("</tr>", start)]


def test_daily_checks_are_green_only_when_passed_within_two_days(ceo, staff, today):
    html = front_page(ceo, "en")
    assert run_row(html, "(enforce)").count("never run") == 1

    now = timezone.now()
    arming.arm(current_policy(), now, "vd")  # not armed, the row is amber (test_arming.py)
    EnforcementRun.objects.create(at=today, started=now, finished=now, actor="enforce")
    problem = "restore: table registry_customer: 3 rows, expected 4"
    BackupRun.objects.create(kind="verify", started=now, finished=now, ok=False, problem=problem)
    BackupRun.objects.create(
        kind="backup", started=now - timedelta(days=3), finished=now - timedelta(days=3), ok=True
    )
    append("residency_checked", actor="check", at=now, count=3, data={"failed": []})
    call_command("evidence", "verify", stdout=io.StringIO())
    html = front_page(ceo, "en")
    for label in ("(enforce)", "(gallra check)", "(evidence verify)"):
        assert "dashboard-ok" in run_row(html, label), label
    drill = run_row(html, "(backup verify)")
    assert "dashboard-failed" in drill and "3 rows, expected 4" in drill
    backup = run_row(html, ">Backup<")
    stale = (now - timedelta(days=3)).astimezone(timezone.get_default_timezone())
    assert "dashboard-failed" in backup and f"not run since {stale:%Y-%m-%d %H:%M}" in backup


def test_a_broken_evidence_chain_shows_red_with_the_first_bad_entry(ceo, staff):
    from gallra.evidence.models import Entry

    for i in range(3):
        append("delete", actor="enforce", at=timezone.now(), refs=[f"P-{i}"])
    Entry.objects.filter(seq=2).update(count=7)
    with pytest.raises(CommandError, match="^entry 2: content does not match its hash") as e:
        call_command("evidence", "verify", stdout=io.StringIO())
    assert e.value.returncode == 1
    row = run_row(front_page(ceo, "en"), "(evidence verify)")
    assert "dashboard-failed" in row and "entry 2: content does not match its hash" in row


@pytest.mark.skipif(not apps.is_installed("gallra.incidents"), reason="no incidents app")
def test_breaches_show_the_72_hour_clock_red_when_late(ceo, staff):
    from gallra.incidents.models import Incident

    now = timezone.now()
    late = Incident.objects.create(
        title=f"Intrång hos {NAME}", opened_by="vd", known_at=now - timedelta(hours=80, minutes=10)
    )
    Incident.objects.create(
        title="Borttappad dator", opened_by="vd", known_at=now - timedelta(hours=10, minutes=10)
    )
    Incident.objects.create(
        title="Anmäld", opened_by="vd", known_at=now - timedelta(hours=5), imy_notified_at=now
    )
    html = panel(front_page(ceo, "en"), "dashboard-incidents")
    assert NAME not in html and "Borttappad" not in html
    assert late.ref in html and ">2</a> open breaches" in html
    assert "late by 8 h" in html and "62 h left" in html
    assert html.index(late.ref) < html.index("62 h left")


def test_the_front_page_needs_a_staff_login(client, db):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]
