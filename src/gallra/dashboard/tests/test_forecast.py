"""The deletion chart's counts are kept for the day (dashboard/forecast.py): counted when
`enforce` has run, or by the day's first view, and counted again when the registry changes in
a way the page notices (records added, holds changed, a record saved in the admin). What the
page shows is always what a fresh count gives, and it says when it was counted."""

import re
from collections import Counter
from datetime import date, timedelta

from gallra.dashboard.forecast import timeline_of
from gallra.dashboard.models import Forecast
from gallra.dashboard.tests.conftest import fill, months_before
from gallra.dashboard.tests.test_dashboard import SVG, chart, front_page
from gallra.dashboard.timeline import deletions
from gallra.instance.demo import years_before
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.registry.models import Agreement
from gallra.retention.enforcement import enforce

CUSTOMER_RULE = "customer-data-after-relationship"


def fresh(today: date) -> Counter:
    """What counting now gives: (day, rule, record type) -> records."""
    return Counter({k: n for k, n in deletions(current_policy(), today).counts.items() if n})


def stored(today: date) -> Counter:
    return timeline_of(Forecast.objects.get(counted_on=today)).counts


def counted(html: str) -> str:
    return re.search(r'id="dashboard-counted">([^<]*)<', html).group(1)


def charted(html: str) -> Counter:
    """(day, rule) -> records, from the titles of the chart's bars."""
    found: Counter = Counter()
    for rect in chart(html).iter(f"{SVG}rect"):
        if rect.get("class") == "dashboard-segment":
            title = rect.find(f"{SVG}title").text
            day, rule, n = re.match(r"(\d{4}-\d\d-\d\d), ([\w-]+): (\d+) ", title).groups()
            found[(date.fromisoformat(day), rule)] += int(n)
    return found


def per_rule(counts: Counter) -> Counter:
    out: Counter = Counter()
    for (day, rule, _), n in counts.items():
        out[(day, rule)] += n
    return out


def test_the_first_view_of_a_fresh_install_counts_and_keeps_the_forecast(ceo, staff, today):
    fill(30, today)
    assert not Forecast.objects.exists()  # enforce has never run
    html = front_page(ceo)
    assert stored(today) == fresh(today) and sum(fresh(today).values()) > 30
    assert charted(html) == per_rule(fresh(today))
    assert "enforce has not run today" in counted(html)
    first = Forecast.objects.get()
    front_page(ceo)  # nothing changed: the stored count serves
    assert Forecast.objects.get().counted_at == first.counted_at


def test_enforce_counts_the_forecast_again_after_it_has_deleted(ceo, staff, today):
    fill(30, today)
    front_page(ceo)
    overdue = (today, "accounting-records", "invoice")  # invoices of 2015: due long ago
    assert stored(today)[overdue] == 30
    enforce(current_policy(), today)
    assert stored(today) == fresh(today) and overdue not in stored(today)
    assert Forecast.objects.get().by == Forecast.By.ENFORCE
    html = front_page(ceo, "en")
    assert charted(html) == per_rule(fresh(today))
    assert counted(html).startswith(f"Counted at enforce, {today.isoformat()} ")
    assert "Räknat vid enforce" in front_page(ceo, "sv")


def test_an_enforce_for_another_day_leaves_todays_forecast(ceo, staff, today):
    fill(5, today)
    front_page(ceo)
    enforce(current_policy(), today + timedelta(days=400))  # as the simulated years do
    assert Forecast.objects.get().by == Forecast.By.PAGE


def test_holds_imports_and_edits_during_the_day_count_again(ceo, staff, today):
    fill(30, today)
    enforce(current_policy(), today)
    customer = (today + timedelta(days=4), CUSTOMER_RULE)  # C-3 goes in four days
    assert charted(front_page(ceo))[customer] > 0

    # A hold on the customer: it stays, and the chart says so at once.
    hold = {"ref": "H-C3", "target": "customer:C-3", "reason": "legal", "until": None}
    import_document({"holds": [hold]})
    html = front_page(ceo, "en")
    assert customer not in charted(html) and stored(today) == fresh(today)
    assert counted(html).startswith("Counted again at ")

    # New mail that the three-month rule deletes in two days.
    received = months_before(today + timedelta(days=2), 3).isoformat()
    mail = [{"ref": f"M-new-{i}", "received": received, "sender": "a@b.example"} for i in (1, 2)]
    before = charted(front_page(ceo))[(today + timedelta(days=2), "correspondence-and-sales")]
    import_document({"correspondence": mail})
    after = charted(front_page(ceo))[(today + timedelta(days=2), "correspondence-and-sales")]
    assert after == before + 2 and stored(today) == fresh(today)

    # An agreement's end corrected in the admin: the customer moves to another day.
    agreement = Agreement.objects.get(ref="C-5-A")
    agreement.end = years_before(today + timedelta(days=20), 1)
    agreement.save()
    front_page(ceo)
    assert stored(today) == fresh(today)
