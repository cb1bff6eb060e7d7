"""Which messages are due on a date under their mailbox's rule, and why the others stay.

The same judgement serves `plan` (from the index of the last scan) and `enforce` (again for
every batch, right before it deletes): a message is due when its rule has run out counted
from its date (`created`) or from the last message of its thread (`last_activity`), unless
a hold active that day covers it. Holds cover a message through what it is linked to: its
customers (and their agreements) and its prospects. An active agreement alone keeps nothing:
like the registry's correspondence, mail is kept past three months only by a recorded hold
(docs/mailboxes.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Max, Q
from django.utils import timezone

from gallra.mailboxes.models import MailMessage
from gallra.policy.model import Policy, Rule
from gallra.registry.models import Agreement, Hold
from gallra.retention.planner import Decision, due_date

RECORD_TYPE = "mail"  # how plan and the evidence log name a message
CHUNK = 500


def mailbox_rules(policy: Policy) -> dict[str, list[Rule]]:
    """The deleting rules of each mailbox's category (the policy check makes sure there is one)."""
    return {
        m.id: [r for r in policy.rules_for(m.category) if r.action == "delete"]
        for m in policy.mailbox
    }


def _longer(a: Hold | None, b: Hold) -> Hold:
    if a is None or a.until is None:
        return a or b
    return b if b.until is None or b.until > a.until else a


@dataclass
class Holds:
    """The holds active on a date that can cover a message, by what they name."""

    at: date
    customers: dict[str, Hold] = field(default_factory=dict)
    prospects: dict[str, Hold] = field(default_factory=dict)

    @classmethod
    def load(cls, at: date) -> Holds:
        holds = cls(at)
        active = Hold.objects.filter(
            Q(until__isnull=True) | Q(until__gte=at),
            target_type__in=["customer", "agreement", "prospect"],
        )
        on_agreements: dict[str, list[Hold]] = {}
        for hold in active:
            if hold.target_type == "agreement":
                on_agreements.setdefault(hold.target_ref, []).append(hold)
                continue
            target = holds.customers if hold.target_type == "customer" else holds.prospects
            target[hold.target_ref] = _longer(target.get(hold.target_ref), hold)
        # Agreements go with their customer, so a hold on one holds the customer's mail.
        agreements = Agreement.objects.filter(ref__in=list(on_agreements))
        for ref, customer in agreements.values_list("ref", "customer__ref"):
            for hold in on_agreements[ref]:
                holds.customers[customer] = _longer(holds.customers.get(customer), hold)
        return holds

    def covering(self, message: MailMessage) -> Hold | None:
        found = None
        candidates = [self.customers.get(c) for c in message.customer_refs]
        candidates += [self.prospects.get(p) for p in message.prospect_refs]
        for hold in candidates:
            if hold is not None:
                found = _longer(found, hold)
        return found


def thread_dates(threads: Iterable[str]) -> dict[str, datetime]:
    """The date of the last message of each thread, over every mailbox's index."""
    threads = sorted(set(threads))
    out = {}
    for start in range(0, len(threads), CHUNK):
        rows = (
            MailMessage.objects.filter(thread__in=threads[start : start + CHUNK])
            .values("thread")
            .annotate(last=Max("date"))
            .values_list("thread", "last")
        )
        out.update(rows)
    return out


def judge(
    message: MailMessage, rules: list[Rule], at: date, holds: Holds, last: datetime | None
) -> Decision:
    """What happens to one message on `at`, and why (retention's Decision, type "mail")."""
    where = {"mailbox": message.mailbox, "folder": message.folder}
    if not rules:
        return Decision(RECORD_TYPE, message.ref, "keep", "", None, "no_rule", where)
    if message.unreadable:
        return Decision(
            RECORD_TYPE,
            message.ref,
            "keep",
            rules[0].id,
            None,
            "unreadable",
            {**where, "uid": message.uid},
        )
    best = None
    for rule in rules:
        counted = last if rule.trigger == "last_activity" and last else message.date
        due = due_date(rule, timezone.localtime(counted).date())
        hold = holds.covering(message) if "hold" in rule.unless else None
        if due > at:
            reason, details = "not_yet", {"until": due - timedelta(days=1)}
        elif hold is not None:
            reason, details = (
                "hold",
                {"hold": hold.ref, "hold_reason": hold.reason, "until": hold.until},
            )
        else:
            return Decision(RECORD_TYPE, message.ref, "delete", rule.id, due, "due", {})
        if best is None or due < best[0]:
            best = (due, rule, reason, {**where, **details})
    due, rule, reason, details = best
    return Decision(RECORD_TYPE, message.ref, "keep", rule.id, due, reason, details)


def judge_all(
    policy: Policy, at: date, messages: list[MailMessage], holds: Holds | None = None
) -> list[Decision]:
    """judge() for a list of messages, with the holds and thread dates read now."""
    rules = mailbox_rules(policy)
    holds = holds or Holds.load(at)
    last = thread_dates(m.thread for m in messages)
    return [judge(m, rules.get(m.mailbox, []), at, holds, last.get(m.thread)) for m in messages]


def plan_mail(policy: Policy, at: date, record_type: str | None = None) -> Iterator[Decision]:
    """Every indexed message of the policy's mailboxes, as `gallra plan` shows records."""
    if record_type not in (None, RECORD_TYPE) or not policy.mailbox:
        return
    holds = Holds.load(at)
    declared = Q(pk__in=[])
    for mailbox in policy.mailbox:
        declared |= Q(mailbox=mailbox.id, folder__in=mailbox.folders)
    messages = MailMessage.objects.filter(declared)
    buffer: list[MailMessage] = []
    for message in messages.order_by("mailbox", "folder", "date", "pk").iterator(CHUNK):
        buffer.append(message)
        if len(buffer) >= CHUNK:
            yield from judge_all(policy, at, buffer, holds)
            buffer = []
    yield from judge_all(policy, at, buffer, holds)
