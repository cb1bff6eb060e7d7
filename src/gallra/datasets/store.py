"""The provider's datasets as a retention store: their rows follow the policy's rules like
gallra's own records (enforcement.py). It runs before the registry's deletions, so that the
owners' facts are read as the registry judges them in the same run. Its rows, its reasons and
its part of `enforce`'s summary are said here, through gettext in the language asked for."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra.datasets.enforcement import (
    BATCH,
    Progress,
    enforce_datasets,
    explain_row,
    plan_datasets,
)
from gallra.datasets.replay import replay_dataset
from gallra.policy.model import Policy
from gallra.retention.planner import Decision
from gallra.retention.stores import Store


def is_row_type(record_type: str) -> bool:
    """`DATASET:TABLE`, as the datasets store names a table's rows."""
    return record_type.count(":") == 1 and all(record_type.split(":"))


class DatasetStore(Store):
    id = "datasets"
    before_registry = True
    order = 10
    batch: int = BATCH
    progress: Progress | None = None

    def plan(self, policy: Policy, at: date, record_type: str | None = None) -> Iterable[Decision]:
        if record_type is not None and not is_row_type(record_type):
            return ()
        return plan_datasets(policy, at, record_type)

    def enforce(
        self,
        policy: Policy,
        at: date,
        *,
        actor: str,
        now: Callable[[], datetime],
        dry_run: bool = False,
    ) -> dict:
        if not policy.dataset:
            return {}
        summary = enforce_datasets(
            policy,
            at,
            actor=actor,
            now=now,
            dry_run=dry_run,
            batch=self.batch,
            progress=self.progress,
        )
        return summary.as_dict()

    def summary_lines(self, part: dict, lang: str) -> list[str]:
        lines = []
        with translation.override(lang):
            if part.get("dry_run"):
                n = part.get("due", 0)
                if n:
                    said = ngettext(
                        "%(n)s row in the datasets would be deleted or overwritten",
                        "%(n)s rows in the datasets would be deleted or overwritten",
                        n,
                    )
                    lines.append("  " + said % {"n": n})
                return lines
            for item in part.get("by_rule", []):
                n = item["count"]
                values = {"rule": item["rule"], "n": n, "table": item["type"]}
                if item["erase"] == "delete":
                    said = ngettext(
                        "%(rule)s: %(n)s row of %(table)s deleted",
                        "%(rule)s: %(n)s rows of %(table)s deleted",
                        n,
                    )
                else:
                    said = ngettext(
                        "%(rule)s: %(n)s row of %(table)s overwritten",
                        "%(rule)s: %(n)s rows of %(table)s overwritten",
                        n,
                    )
                lines.append("  " + said % values)
            n = part.get("resumed", 0)
            if n:
                said = ngettext(
                    "%(n)s dataset row changed by an interrupted run, recorded now",
                    "%(n)s dataset rows changed by an interrupted run, recorded now",
                    n,
                )
                lines.append("  " + said % {"n": n})
        return lines

    def would_delete(self, part: dict) -> int:
        return part.get("due", 0)

    def places(self, policy: Policy) -> list[str]:
        return [d.id for d in policy.dataset]

    def replay(
        self, policy: Policy, place: str, entries: list, *, actor: str, now: datetime
    ) -> dict:
        return replay_dataset(policy, place, entries, actor=actor, now=now)

    def explain(self, policy: Policy, at: date, ref: str) -> Decision | None:
        if ref.count(":") < 2:
            return None
        return explain_row(policy, at, ref)

    def type_name(self, record_type: str, lang: str) -> str | None:
        if not is_row_type(record_type):
            return None
        with translation.override(lang):
            return _("row of %(table)s") % {"table": record_type}

    def reason(self, decision: Decision, lang: str) -> str | None:
        if decision.reason != "owner_unknown":
            return None
        owner = decision.details.get("owner") or ""
        with translation.override(lang):
            if not owner:
                return _("the row names no owner: the registry cannot date it")
            return _(
                "its owner %(owner)s is not in the registry, nor among what gallra deleted: "
                "check the row"
            ) % {"owner": owner}
