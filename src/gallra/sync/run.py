"""`gallra sync`: the registry's facts read from where the provider keeps them (docs/sync.md).

Each source is synced on its own, all or nothing: a source that fails leaves the registry as
it was and the others still run. The SQL sources go first, so that an account the billing
system has just brought in is already there for the passwd and LDAP sources to match.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.utils import timezone

from gallra.policy.model import Policy
from gallra.sync.accounts import sync_accounts
from gallra.sync.models import SourceRun
from gallra.sync.results import SourceResult
from gallra.sync.sql import sync_sql

KEEP_RUNS = timedelta(days=90)  # SourceRun rows: counts and outcomes, no personal data


def sync(
    policy: Policy,
    at: date,
    *,
    source: str | None = None,
    actor: str = "sync",
    now: Callable[[], datetime] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SourceResult]:
    """Sync every declared source (or the one named), as of day `at`; one result each.
    `progress(done, total)` is told after each source (a bar on the terminal)."""
    now = now or timezone.now
    chosen = [s for s in policy.source if source is None or s.id == source]
    datasets = {d.id: d for d in policy.dataset}
    results = []
    for done, declared in enumerate(sorted(chosen, key=lambda s: s.kind != "sql"), 1):
        started = now()
        if declared.kind == "sql":
            result = sync_sql(declared, datasets[declared.dataset])
        else:
            result = sync_accounts(declared, at, now=started, actor=actor)
        SourceRun.objects.create(
            source=declared.id,
            day=at,
            started=started,
            finished=now(),
            actor=actor,
            outcome=result.outcome,
            counts=result.numbers(),
        )
        results.append(result)
        if progress:
            progress(done, len(chosen))
    # Only today's runs are needed (the daily job); a season of them helps whoever looks.
    SourceRun.objects.filter(day__lt=at - KEEP_RUNS).delete()
    return results


def synced_today(policy: Policy, day: date) -> bool:
    """Every declared source synced without a failure on `day` (by cron, say)."""
    ok = set(
        SourceRun.objects.filter(day=day)
        .exclude(outcome__in=[SourceRun.Outcome.PROBLEMS, SourceRun.Outcome.UNAVAILABLE])
        .values_list("source", flat=True)
    )
    return bool(policy.source) and all(s.id in ok for s in policy.source)
