"""The policy's mailboxes as a retention store (P19, P21): scanned and enforced after the
registry, so that a message's links to customers are as of the same day. What a run did to
mail is said here too, for `enforce` and `gallra mail`, through gettext."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra.mailboxes.decisions import plan_mail
from gallra.mailboxes.enforcement import enforce_mail
from gallra.mailboxes.replay import replay_mail
from gallra.policy.model import Policy
from gallra.retention.planner import Decision
from gallra.retention.stores import Store


def summary_lines(mail: dict, lang: str) -> list[str]:
    """The lines a mail summary (MailSummary.as_dict) adds to an enforcement summary."""
    lines = []
    with translation.override(lang):
        for item in mail.get("by_rule", []):
            said = ngettext(
                "%(rule)s: %(count)s mail message (%(mailbox)s)",
                "%(rule)s: %(count)s mail messages (%(mailbox)s)",
                item["count"],
            )
            lines.append("  " + said % item)
        if mail.get("resumed"):
            n = mail["resumed"]
            said = ngettext(
                "of which %(n)s deleted by an interrupted run, recorded now",
                "of which %(n)s deleted by an interrupted run, recorded now",
                n,
            )
            lines.append("  " + said % {"n": n})
        if mail.get("unmarked"):
            n = mail["unmarked"]
            said = ngettext(
                "%(n)s message kept after all (held since the interrupted run)",
                "%(n)s messages kept after all (held since the interrupted run)",
                n,
            )
            lines.append("  " + said % {"n": n})
        for where in mail.get("unreadable", []):
            lines.append("  " + _("Unreadable mail is kept: %(where)s") % {"where": where})
        for problem in mail.get("problems", []):
            lines.append("  " + _("Mailbox FAILED: %(problem)s") % {"problem": problem})
    return lines


def heading(mail: dict, lang: str, scan_only: bool = False) -> str:
    """The first line of `gallra mail`: what a scan found, or what a run deleted."""
    with translation.override(lang):
        if scan_only:
            messages = ngettext("%(n)s message", "%(n)s messages", mail["messages"])
            due = ngettext("%(n)s due on %(day)s", "%(n)s due on %(day)s", mail["due"])
            return _("Mail scanned: %(messages)s, %(due)s.") % {
                "messages": messages % {"n": mail["messages"]},
                "due": due % {"n": mail["due"], "day": mail["at"]},
            }
        if mail["dry_run"]:
            said = ngettext(
                "Dry run for %(day)s: %(n)s mail message would be deleted.",
                "Dry run for %(day)s: %(n)s mail messages would be deleted.",
                mail["due"],
            )
            return said % {"day": mail["at"], "n": mail["due"]}
        said = ngettext(
            "Mail for %(day)s: %(n)s message deleted.",
            "Mail for %(day)s: %(n)s messages deleted.",
            mail["deleted"],
        )
        return said % {"day": mail["at"], "n": mail["deleted"]}


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
        return summary_lines(part, lang)

    def would_delete(self, part: dict) -> int:
        return part.get("due", 0)

    def places(self, policy: Policy) -> list[str]:
        return [m.id for m in policy.mailbox]

    def replay(
        self, policy: Policy, place: str, entries: list, *, actor: str, now: datetime
    ) -> dict:
        return replay_mail(policy, place, entries, actor=actor, now=now)
