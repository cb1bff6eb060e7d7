"""`gallra replay`: after a provider restores a dataset or a mailbox from its own backup, the
deletions and erasures gallra carried out there since the backup are carried out again (P15).

A restored copy knows nothing of what gallra deleted after it was taken. The evidence log
does: every deletion and erasure names its place (`data.store` for a dataset, `data.mailbox`
for a mailbox). Each store re-applies its own (stores.py `replay`); re-applying one that the
copy does not hold changes nothing, so replaying from too early a date is safe, and from too
late a date is not: give the day the backup was taken, or earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from gallra.evidence.log import append
from gallra.evidence.models import Entry
from gallra.policy.model import Policy
from gallra.retention.stores import owner_of, stores

ACTIONS = ("delete", "subject.erase")


class UnknownPlace(Exception):
    """No store keeps a place of that id."""


@dataclass
class Replayed:
    place: str
    since: date
    entries: int = 0
    reapplied: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "store": self.place,
            "since": self.since.isoformat(),
            "entries": self.entries,
            "reapplied": self.reapplied,
            "problems": self.problems,
        }


def record_again(entry: Entry, refs: list[str], *, actor: str, now: datetime) -> None:
    """The evidence that `entry` was carried out again on these refs (a store's replay)."""
    append(
        entry.action,
        actor=actor,
        at=now,
        rule=entry.rule,
        record_type=entry.record_type,
        refs=refs,
        customers=[c for c in entry.customers.split("|") if c],
        data={
            **entry.data,
            "replayed": {"seq": entry.seq, "at": entry.at.isoformat(), "removed_again": len(refs)},
        },
    )


def places(policy: Policy) -> list[str]:
    return [place for store in stores() for place in store.places(policy)]


def entries_for(place: str, since: date) -> list[Entry]:
    """The deletions and erasures recorded for `place` from the start of `since` (local time)."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    where = Q(data__store=place) | Q(data__mailbox=place)
    found = Entry.objects.filter(where, action__in=ACTIONS, at__gte=start).order_by("seq")
    # A replay's own entries carry the place too: replaying them again would count twice.
    return [e for e in found if "replayed" not in (e.data or {})]


def replay(policy: Policy, place: str, since: date, *, actor: str, now: datetime) -> Replayed:
    store = owner_of(policy, place)
    if store is None:
        known = ", ".join(places(policy)) or "-"
        raise UnknownPlace(
            _("no dataset or mailbox %(place)r in the policy (known: %(known)s)")
            % {"place": place, "known": known}
        )
    found = entries_for(place, since)
    result = Replayed(place, since, entries=len(found))
    part = store.replay(policy, place, found, actor=actor, now=now)
    result.reapplied = part.get("reapplied", 0)
    result.problems = list(part.get("problems", []))
    append(
        "replay",
        actor=actor,
        at=now,
        count=result.reapplied,
        data={
            "store": place,
            "since": since.isoformat(),
            "entries": [e.seq for e in found],
            "reapplied": result.reapplied,
            "problems": len(result.problems),
        },
    )
    return result
