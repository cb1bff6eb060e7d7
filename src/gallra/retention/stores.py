"""Stores: places outside the registry that `enforce` and `plan` reach (homes, logins, mail...).

Retention sits below the apps that keep personal data elsewhere, so it does not import them:
each app registers a `Store` in its AppConfig.ready(), and `enforce` and `plan` go over
`stores()`. A new kind of store is one more registration, with no change to the engine.

Order: stores with `before_registry` run before the registry's own deletions (homes: no
account or agreement goes while a grant still names it, P3); the others after them, so
that what they judge by (a message's links to customers) is as of the same day. Within
each group, by `order`, then by registration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from gallra.policy.model import Policy
from gallra.retention.planner import Decision


class Store:
    """One store's part in retention. Every method has a default that does nothing."""

    id: str = ""  # names the store's part of an enforcement summary (and of its JSON)
    before_registry: bool = False
    order: int = 100

    def plan(self, policy: Policy, at: date, record_type: str | None = None) -> Iterable[Decision]:
        """`gallra plan`: the store's records and what happens to each on `at`."""
        return ()

    def enforce(
        self,
        policy: Policy,
        at: date,
        *,
        actor: str,
        now: Callable[[], datetime],
        dry_run: bool = False,
    ) -> dict:
        """Carry out the policy on `at` (dry run: count, change nothing). Returns the store's
        part of the summary: JSON-able, empty when there is nothing to say."""
        return {}

    def summary_lines(self, part: dict, lang: str) -> list[str]:
        """The lines the part adds to `enforce`'s text summary, in `lang` ("sv" or "en")."""
        return []

    def problems(self, part: dict) -> list[str]:
        """What could not be done (the next run resumes it): `enforce` then exits 1."""
        return [str(p) for p in part.get("problems", [])]

    def would_delete(self, part: dict) -> int:
        """Of a dry run's part: how many records a run would delete (for the not-armed notice)."""
        return 0

    def explain(self, policy: Policy, at: date, ref: str) -> Decision | None:
        """`gallra explain REF`: the Decision on `at` for one of the store's records named by
        its whole ref (a dataset row: `DATASET:TABLE:KEY`); None when it is not the store's."""
        return None

    def type_name(self, record_type: str, lang: str) -> str | None:
        """How `plan` and `explain` name a record type of the store's in `lang` (None: not one
        of the store's; the retention words name the registry's own)."""
        return None

    def reason(self, decision: Decision, lang: str) -> str | None:
        """A keep reason of the store's own (one the retention words do not know), in `lang`."""
        return None

    def places(self, policy: Policy) -> list[str]:
        """The ids of the places this store keeps data in that a provider may restore from its
        own backup (a dataset, a mailbox): what `gallra replay --store` accepts."""
        return []

    def replay(
        self, policy: Policy, place: str, entries: list, *, actor: str, now: datetime
    ) -> dict:
        """Carry out again, in `place`, the deletions and erasures of these evidence entries
        (evidence.models.Entry, oldest first), each with a new evidence entry saying so.
        Returns {"reapplied": n, "problems": [...]}; an entry already carried out changes
        nothing."""
        return {"reapplied": 0, "problems": []}


_stores: dict[str, Store] = {}


def register(store: Store) -> Store:
    """Add a store (from an AppConfig.ready()). The same id again replaces the earlier one."""
    if not store.id:
        raise ValueError(f"{type(store).__name__}: a store needs an id")
    _stores.pop(store.id, None)
    _stores[store.id] = store
    return store


def unregister(store_id: str) -> None:
    _stores.pop(store_id, None)


def stores() -> list[Store]:
    """Every registered store, each once, in the order `enforce` runs them."""
    ranked = sorted(
        enumerate(_stores.values()), key=lambda p: (not p[1].before_registry, p[1].order, p[0])
    )
    return [store for _, store in ranked]


def owner_of(policy: Policy, place: str) -> Store | None:
    """The store that keeps `place` (a dataset or mailbox id), if any."""
    return next((s for s in stores() if place in s.places(policy)), None)


def plan_all(policy: Policy, at: date, record_type: str | None = None) -> Iterable[Decision]:
    """Every store's decisions for `gallra plan`, one store after another."""
    for store in stores():
        yield from store.plan(policy, at, record_type)
