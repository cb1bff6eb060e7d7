"""The deletion chart's counts: counted when `enforce` runs, read by the front page.

Counting what each rule deletes in the coming days (timeline.deletions) costs the database
more than the rest of the front page together, and what it counts changes mostly when
`enforce` deletes. So `enforce` counts it once a day, as soon as its run has finished
(`retention.signals.enforcement_finished`), and stores it (`models.Forecast`); the page reads
that. When none is stored for today (a fresh install, or before the day's `enforce`), the
first page view counts and stores it, so the first view is already right.

Staleness: every page view reads `registry_state` (one cheap query: the newest id of each
record type retention reaches, the newest tombstone, the number of holds and their last
change, and the policy's deletion rules) and counts again when it differs from the stored
one: after an import or anything else that adds records, an erasure, a hold added, changed
or lifted, or a new policy. A record edited one by one (the admin, the API) marks the count
stale too (`registry_changed`). Not seen until the next `enforce` (or the next day): a date
changed in bulk on existing records (`sync` closing accounts, an import correcting an
agreement's end), which would need an index on every table's `updated_at` to notice cheaply.
The chart says when and by what it was counted; the list behind a bar always counts afresh.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date, timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models.expressions import RawSQL
from django.utils import timezone

from gallra.dashboard.models import Forecast
from gallra.dashboard.timeline import Timeline, deletions
from gallra.policy.model import Policy
from gallra.registry.models import Hold, Tombstone
from gallra.retention.kinds import KINDS
from gallra.retention.planner import rules_by_type

_RULES: dict[int, tuple[Policy, str]] = {}  # id(policy) -> (policy, digest of its rules)


def stored_deletions(policy: Policy, today: date) -> tuple[Timeline, Forecast]:
    """The chart's counts for today: as stored, or counted now when none is stored for
    today or the registry changed since (then stored for the next view)."""
    state = RawSQL(_state_sql(), ())  # noqa: S611 - table names of our own, no input
    found = Forecast.objects.filter(counted_on=today).annotate(now=state).first()  # one query
    if found is None:
        found = count(policy, today, Forecast.By.PAGE)
    elif found.state != f"{_rules_digest(policy)} {found.now}":
        found = count(policy, today, Forecast.By.CHANGED)
    return timeline_of(found), found


def count(policy: Policy, day: date, by: str) -> Forecast:
    """Count the deletions of `day` and the DAYS after it, and store them for the day."""
    state = registry_state(policy)  # read first: a change while counting counts again
    timeline = deletions(policy, day)
    values = {
        "counted_at": timezone.now(),
        "by": by,
        "state": state,
        "rules": timeline.rules,
        "counts": [
            [(d - day).days, rule, record_type, n]
            for (d, rule, record_type), n in sorted(timeline.counts.items())
            if n
        ],
    }
    try:
        with transaction.atomic():
            Forecast.objects.filter(counted_on__lt=day).delete()  # yesterday's is of no use
            found, _ = Forecast.objects.update_or_create(counted_on=day, defaults=values)
    except IntegrityError:  # another page view stored the same count at the same moment
        found = Forecast(counted_on=day, **values)
    return found


def timeline_of(found: Forecast) -> Timeline:
    start = found.counted_on
    counts = Counter({(start + timedelta(days=k), rule, t): n for k, rule, t, n in found.counts})
    return Timeline(start, list(found.rules), counts)


def registry_state(policy: Policy) -> str:
    """What a count depends on that changes during a day: see the module's docstring."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {_state_sql()}")
        return f"{_rules_digest(policy)} {cursor.fetchone()[0]}"


def _state_sql() -> str:
    """The registry's part of `registry_state` as one SQL text value; indexes answer it (the
    newest ids), and holds are few."""
    quote = connection.ops.quote_name
    newest = [KINDS[t].model._meta.db_table for t in sorted(KINDS)] + [Tombstone._meta.db_table]
    hold = quote(Hold._meta.db_table)
    parts = [f"(SELECT MAX(id) FROM {quote(table)})" for table in newest]  # noqa: S608
    parts += [f"(SELECT COUNT(*) FROM {hold})", f"(SELECT MAX(updated_at) FROM {hold})"]  # noqa: S608
    return " || ' ' || ".join(f"COALESCE(CAST({part} AS TEXT), '')" for part in parts)


def _rules_digest(policy: Policy) -> str:
    """The deletion rules as the count uses them, kept per loaded policy."""
    found = _RULES.get(id(policy))
    if found is None or found[0] is not policy:
        if len(_RULES) >= 8:
            _RULES.clear()
        text = repr(
            sorted(
                (t, [r.model_dump() for r in rules]) for t, rules in rules_by_type(policy).items()
            )
        )
        found = _RULES[id(policy)] = (policy, hashlib.sha256(text.encode()).hexdigest()[:16])
    return found[1]


def enforcement_finished(sender, policy: Policy, at: date, **kwargs) -> None:
    """`enforce` has run for `at`: count the days ahead, when `at` is the day the front page
    shows (a run for another day, as the tests' simulated years do, is of no use to it)."""
    if at == timezone.localdate():
        count(policy, at, Forecast.By.ENFORCE)


def registry_changed(sender, raw: bool = False, **kwargs) -> None:
    """A record saved one by one (the admin, the API): the next view counts again."""
    if not raw:
        Forecast.objects.filter(counted_on=timezone.localdate()).exclude(state="").update(state="")
