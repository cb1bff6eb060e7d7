"""The provider's datasets as a retention store: their rows follow the policy's rules like
gallra's own records (enforcement.py). It runs before the registry's deletions, so that the
owners' facts are read as the registry judges them in the same run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from gallra.datasets import words
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


class DatasetStore(Store):
    id = "datasets"
    before_registry = True
    order = 10
    batch: int = BATCH
    progress: Progress | None = None

    def plan(self, policy: Policy, at: date, record_type: str | None = None) -> Iterable[Decision]:
        if record_type is not None and not words.is_row_type(record_type):
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
        return words.summary_lines(part, lang)

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
        return words.type_name(record_type, lang)

    def reason(self, decision: Decision, lang: str) -> str | None:
        return words.reason(decision, lang)
