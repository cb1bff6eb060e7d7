"""The deletion memory as a store: `enforce` ends it under its own rule (registry/tombstones.py).

The registry remembers what retention and erasures deleted so that no import brings it back;
that memory is data too, and the policy's deletion-memory rule says when it goes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.utils import translation
from django.utils.translation import ngettext

from gallra.policy.model import Policy
from gallra.registry import tombstones
from gallra.retention.stores import Store


class DeletionMemory(Store):
    id = "deletion_memory"
    order = 90  # last: today's deletions are remembered before old memories go

    def enforce(
        self,
        policy: Policy,
        at: date,
        *,
        actor: str,
        now: Callable[[], datetime],
        dry_run: bool = False,
    ) -> dict:
        if dry_run:
            return {"rule": policy.deletion_memory_rule().id, "deleted": tombstones.due(policy, at)}
        return tombstones.forget(policy, at, now=now(), actor=actor)

    def summary_lines(self, part: dict, lang: str) -> list[str]:
        n = part.get("deleted", 0)
        if not n:
            return []
        with translation.override(lang):
            said = ngettext(
                "%(rule)s: %(n)s memory of a deleted record",
                "%(rule)s: %(n)s memories of deleted records",
                n,
            )
        return ["  " + said % {"rule": part["rule"], "n": n}]

    def would_delete(self, part: dict) -> int:
        return part.get("deleted", 0)
