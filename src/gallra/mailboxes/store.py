"""The policy's mailboxes as a retention store (P19, P21): scanned and enforced after the
registry, so that a message's links to customers are as of the same day."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from gallra.mailboxes import words
from gallra.mailboxes.decisions import plan_mail
from gallra.mailboxes.enforcement import enforce_mail
from gallra.mailboxes.replay import replay_mail
from gallra.policy.model import Policy
from gallra.retention.planner import Decision
from gallra.retention.stores import Store


class MailStore(Store):
    id = "mail"
    order = 20

    def plan(self, policy: Policy, at: date, record_type: str | None = None) -> Iterable[Decision]:
        return plan_mail(policy, at, record_type)  # as of the last scan

    def enforce(
        self,
        policy: Policy,
        at: date,
        *,
        actor: str,
        now: Callable[[], datetime],
        dry_run: bool = False,
    ) -> dict:
        if not policy.mailbox:
            return {}
        return enforce_mail(policy, at, actor=actor, now=now, dry_run=dry_run).as_dict()

    def summary_lines(self, part: dict, lang: str) -> list[str]:
        return words.summary_lines(part, lang)

    def would_delete(self, part: dict) -> int:
        return part.get("due", 0)

    def places(self, policy: Policy) -> list[str]:
        return [m.id for m in policy.mailbox]

    def replay(
        self, policy: Policy, place: str, entries: list, *, actor: str, now: datetime
    ) -> dict:
        return replay_mail(policy, place, entries, actor=actor, now=now)
