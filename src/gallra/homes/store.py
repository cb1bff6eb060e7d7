"""Home directory grants as a retention store (P3): `enforce` ends the grants that no longer
hold before the registry's deletions, so no account or agreement goes while a grant names it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from django.utils import translation
from django.utils.translation import ngettext

from gallra.homes.grants import ended, remove_ended_grants
from gallra.policy.model import Policy
from gallra.retention.stores import Store


class HomesStore(Store):
    id = "homes"
    before_registry = True

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
            counts = {why: len(grants) for why, grants in ended(at).items()}
        else:
            counts = remove_ended_grants(at, now(), actor)
        return {"grants_ended": counts, "dry_run": dry_run} if counts else {}

    def summary_lines(self, part: dict, lang: str) -> list[str]:
        n = sum(part.get("grants_ended", {}).values())
        if not n:
            return []
        with translation.override(lang):
            if part.get("dry_run"):
                said = ngettext("%(n)s access grant would end", "%(n)s access grants would end", n)
            else:
                said = ngettext("%(n)s access grant ended", "%(n)s access grants ended", n)
        return [f"  {said % {'n': n}} (P3)"]
