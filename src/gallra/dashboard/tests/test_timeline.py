"""The deletion timeline says, day by day and rule by rule, what `plan` will decide.

For every day d of the window, the records the chart puts on d are exactly those that
`plan(d)` deletes and `plan(d - 1)` did not (on the first day: all that `plan` deletes), under
the same rule. Checked on the demo registry from three starting days: today (old mail, the
overdue backlog), 45 days on (a negotiation hold runs out inside the window) and 330 days on
(customers whose agreement ended last month, accounts closed while the company stays).
"""

from collections import Counter
from datetime import date, timedelta

import pytest

from gallra.dashboard.timeline import DAYS, deletions
from gallra.instance.demo import build
from gallra.policy.loading import current_policy
from gallra.registry.importing import import_document
from gallra.retention.planner import plan

DEMO_DAY = date(2026, 3, 10)


def going(policy, day: date) -> dict[tuple[str, str], str]:
    return {(d.record_type, d.ref): d.rule for d in plan(policy, day) if d.action == "delete"}


def assert_as_planned(start: date) -> int:
    """Each day of the timeline from `start` against `plan`; returns the records charted."""
    policy = current_policy()
    timeline = deletions(policy, start)
    assert len(timeline.days) == DAYS + 1
    before: dict = {}
    for day in timeline.days:
        now = going(policy, day)
        new = Counter((rule, key[0]) for key, rule in now.items() if key not in before)
        charted = Counter(
            {
                (rule, record_type): n
                for (d, rule, record_type), n in timeline.counts.items()
                if d == day and n
            }
        )
        assert charted == new, day
        before = now
    return sum(timeline.counts.values())


@pytest.mark.parametrize("offset", [0, 45, 330])
def test_each_day_of_the_chart_is_what_plan_adds_that_day(db, offset):
    import_document(build(DEMO_DAY))
    assert assert_as_planned(DEMO_DAY + timedelta(days=offset)) > 0


def test_holds_on_what_owns_a_record_keep_it_as_plan_does(db):
    # Customers whose relationship ran out a year ago: one held through an agreement, one
    # itself; a prospect held with its quote and mail; all released inside the window. Two
    # more customers are held past it, one of them through an agreement.
    ended = (DEMO_DAY - timedelta(days=400)).isoformat()
    customers = [
        {
            "ref": f"C-{i}",
            "name": f"Kund {i} AB",
            "agreements": [{"ref": f"C-{i}-A", "start": "2015-01-01", "end": ended}],
            "people": [{"ref": f"C-{i}-P", "first_name": "Greta", "last_name": "Test"}],
            "requests": [{"ref": f"C-{i}-R", "kind": "order", "created": "2016-01-01"}],
        }
        for i in range(1, 6)
    ]
    until = {n: (DEMO_DAY + timedelta(days=n)).isoformat() for n in (4, 9, 13)}
    import_document(
        {
            "customers": customers,
            "prospects": [{"ref": "S-1", "name": "Prospekt", "created": "2020-01-01"}],
            "quotes": [{"ref": "Q-1", "prospect": "S-1", "created": "2020-01-01"}],
            "correspondence": [
                {"ref": "M-1", "prospect": "S-1", "received": "2020-01-01"},
                {"ref": "M-2", "customer": "C-3", "received": "2020-01-01"},
            ],
            "holds": [
                {"ref": "H-1", "target": "agreement:C-1-A", "reason": "legal", "until": until[4]},
                {"ref": "H-2", "target": "customer:C-2", "reason": "legal", "until": until[9]},
                {
                    "ref": "H-3",
                    "target": "prospect:S-1",
                    "reason": "negotiation",
                    "until": until[13],
                },
                {"ref": "H-4", "target": "customer:C-4", "reason": "legal", "until": None},
                {
                    "ref": "H-5",
                    "target": "agreement:C-5-A",
                    "reason": "legal",
                    "until": (DEMO_DAY + timedelta(days=DAYS)).isoformat(),
                },
            ],
        }
    )
    assert assert_as_planned(DEMO_DAY) == 4 * 3 + 3 + 1


def test_a_hold_moves_its_record_to_the_day_after_it_ends(db):
    # Mail due long ago, held until the 10th day: it goes on the 11th, not today.
    start = DEMO_DAY
    import_document(
        {
            "correspondence": [
                {"ref": "M-1", "received": "2020-01-01", "sender": "a@b.example"},
                {"ref": "M-2", "received": "2020-01-01", "sender": "a@b.example"},
            ],
            "holds": [
                {
                    "ref": "H-1",
                    "target": "correspondence:M-1",
                    "reason": "negotiation",
                    "until": (start + timedelta(days=10)).isoformat(),
                }
            ],
        }
    )
    counts = deletions(current_policy(), start).counts
    rule = "correspondence-and-sales"
    assert counts[(start, rule, "correspondence")] == 1
    assert counts[(start + timedelta(days=11), rule, "correspondence")] == 1
    assert sum(counts.values()) == 2
