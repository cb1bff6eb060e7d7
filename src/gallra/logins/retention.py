"""What `enforce` does to login events: purge them after their rule, destroy month keys.

Events go when their retention rule (trigger "created") has run out, months at a time on
PostgreSQL. A month's sealing and pseudonym keys go once `sealed_ip_key_lifetime` has run
from the month's first day: from then on its events are anonymous for good, whatever
copies of the database exist, since the keys were only ever stored wrapped in this table
(and the escrow shares alone open nothing without them).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from django.db import connection, transaction

from gallra.evidence.log import append
from gallra.logins import partitions
from gallra.logins.ingest import last_sealed_month, oldest_kept
from gallra.logins.models import DestroyedMonth, LoginEvent, MonthKey, SealingKey
from gallra.logins.sealing import pseudonym_for
from gallra.policy.model import Policy


def purge(policy: Policy, at: date, now: datetime, actor: str, dry_run: bool = False) -> dict:
    """Carry out the login rule for `at`. Returns {"deleted": n, "keys_destroyed": [months]}."""
    threshold = oldest_kept(policy, at)
    expired = _months_to_destroy(policy, at)
    rule = policy.login_rule()
    if dry_run:
        return {
            "rule": rule.id,
            "deleted": LoginEvent.objects.filter(at__lt=threshold).count(),
            "keys_destroyed": [f"{m:%Y-%m}" for m in expired],
        }
    with transaction.atomic():
        deleted, dropped = partitions.purge_before(threshold)
        if deleted:
            append(
                "delete",
                actor=actor,
                at=now,
                rule=rule.id,
                record_type="login_event",
                count=deleted,
                data={
                    "deletion_date": at.isoformat(),
                    "before": threshold.isoformat(),
                    "months_dropped": [f"{m:%Y-%m}" for m in dropped],
                },
            )
    for month in expired:
        destroy_month_keys(month, now, actor)
    return {"rule": rule.id, "deleted": deleted, "keys_destroyed": [f"{m:%Y-%m}" for m in expired]}


def _months_to_destroy(policy: Policy, at: date) -> list[date]:
    first_kept = last_sealed_month(policy, at)
    months = set(SealingKey.objects.filter(month__lt=first_kept).values_list("month", flat=True))
    months |= set(MonthKey.objects.filter(month__lt=first_kept).values_list("month", flat=True))
    return sorted(months)


def destroy_month_keys(month: date, now: datetime, actor: str) -> None:
    """Delete a month's keys so that no copy of this database can open its events."""
    with transaction.atomic():
        if connection.vendor == "sqlite":  # overwrite the freed pages, not just unlink them
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA secure_delete = ON")
        sealing = SealingKey.objects.filter(month=month)
        count = sealing.count()
        sealing.delete()
        MonthKey.objects.filter(month=month).delete()
        DestroyedMonth.objects.update_or_create(
            month=month, defaults={"destroyed": now, "sealing_keys": count}
        )
        append(
            "login_keys_destroyed",
            actor=actor,
            at=now,
            record_type="login_event",
            count=LoginEvent.objects.filter(
                at__gte=_start(month), at__lt=_start(partitions.next_month(month))
            ).count(),
            data={"month": f"{month:%Y-%m}", "sealing_keys": count},
        )
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:  # reclaim the dead rows that still held the keys
            cursor.execute("VACUUM logins_sealingkey, logins_monthkey")


def _start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def forget_accounts(usernames: Iterable[str]) -> int:
    """Accounts that are gone leave their name in login events only as a pseudonym.

    The events stay for their own rule (security, an authority's request), but a name that
    matches no account is kept the way any unknown user name is: keyed per month, so that
    `reveal --account NAME` still finds them while the month's key lives. Returns events changed.
    """
    from gallra.registry.models import Account

    names = {u for u in usernames if u}
    names -= set(Account.objects.filter(username__in=names).values_list("username", flat=True))
    # Most deleted accounts never logged in: one query per thousand names finds those that did.
    listed, logged_in = sorted(names), set()
    for start in range(0, len(listed), 1000):
        chunk = LoginEvent.objects.filter(account__in=listed[start : start + 1000])
        logged_in |= set(chunk.values_list("account", flat=True).distinct())
    changed = 0
    for name in sorted(logged_in):
        events = LoginEvent.objects.filter(account=name)
        for month in events.datetimes("at", "month", tzinfo=UTC):
            start = _start(date(month.year, month.month, 1))
            in_month = events.filter(
                at__gte=start, at__lt=_start(partitions.next_month(start.date()))
            )
            pseudonym = pseudonym_for(start.date(), name, create=True) or ""
            changed += in_month.update(account="", pseudonym=pseudonym)
    return changed
