"""Manual tasks (P16): deletion only a person can do, assigned, reminded and acknowledged.

When a customer's relationship ends, each manual rule of the policy gives every member of
the customer's staff (or, when none is assigned, the rule's role, or all staff) a task with
the rule's due date. Reminders go by e-mail from a week before the due date until done.
Acknowledging a task is recorded in the evidence log.

The reminders go through the outbox, which retention may not import: the instance app
registers how they are queued and delivered (`register_mailer`, from its AppConfig.ready()).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gallra.evidence.log import append
from gallra.policy.model import Policy, Rule
from gallra.registry.models import Customer
from gallra.retention.kinds import KINDS
from gallra.retention.models import ManualTask
from gallra.retention.planner import due_date

REMIND_BEFORE = timedelta(days=7)
CHUNK = 1000


@dataclass(frozen=True)
class Mailer:
    """How reminders reach the staff, registered by an app above retention.

    `queue(subject, body, to, now)` runs in the transaction that records the task as
    reminded (both happen, or neither); `deliver()` runs once they are all queued, outside
    any transaction, and raises nothing: what it cannot deliver waits and is tried again.
    """

    queue: Callable[[str, str, list[str], datetime], object]
    deliver: Callable[[], None]


_mailers: list[Mailer] = []


def register_mailer(mailer: Mailer) -> None:
    _mailers[:] = [mailer]


def _mailer() -> Mailer:
    if not _mailers:  # mailing directly would fail the whole run while the relay is down
        raise RuntimeError("no app has registered how task reminders are mailed: apps not ready?")
    return _mailers[0]


def create_tasks(policy: Policy, at: date, now: datetime, lang: str | None = None) -> int:
    """Tasks for every relationship that has ended by `at` and has none yet for the rule.

    Written in chunks, one transaction and one evidence entry each: a run after a year of
    ended customers does not take a transaction per customer.
    """
    lang = lang or policy.languages[0]
    created = 0
    for rule in (r for r in policy.rule if r.action == "manual"):
        ended = KINDS["customer"].triggers[rule.trigger].due_q(at)
        has_task = ManualTask.objects.filter(rule=rule.id, customer_ref=OuterRef("ref"))
        customers = (
            Customer.objects.filter(ended)
            .exclude(Exists(has_task))
            .annotate(ended_on=Max("agreements__end"))
            .order_by("pk")
        )
        fallback = list(_default_assignees(rule))
        what = _what(policy, rule, lang)
        chunk: list[Customer] = []
        for customer in customers.iterator(chunk_size=CHUNK):
            chunk.append(customer)
            if len(chunk) == CHUNK:
                created += _create_chunk(rule, chunk, fallback, what, now)
                chunk = []
        if chunk:
            created += _create_chunk(rule, chunk, fallback, what, now)
    return created


def _create_chunk(rule: Rule, customers: list[Customer], fallback, what: str, now) -> int:
    staff = defaultdict(list)
    links = Customer.staff.through.objects.filter(
        customer_id__in=[c.pk for c in customers], user__is_active=True
    ).select_related("user")
    for link in links:
        staff[link.customer_id].append(link.user)
    tasks = [
        ManualTask(
            rule=rule.id,
            customer_ref=c.ref,
            assignee=user,
            what=what,
            created=now,
            due=due_date(rule, c.ended_on),
        )
        for c in customers
        for user in staff[c.pk] or fallback
    ]
    if not tasks:
        return 0
    with transaction.atomic():
        ManualTask.objects.bulk_create(tasks, ignore_conflicts=True)
        append(
            "task_created",
            actor="enforce",
            at=now,
            rule=rule.id,
            record_type="customer",
            refs=sorted({t.customer_ref for t in tasks}),
            customers={t.customer_ref for t in tasks},
            count=len(tasks),
            data={"assignees": sorted({t.assignee.get_username() for t in tasks})},
        )
    return len(tasks)


def _what(policy: Policy, rule: Rule, lang: str) -> str:
    if rule.task is not None:
        return policy.text(rule.task, lang)
    category = policy.category_by_id(rule.applies_to[0])
    return f"{policy.text(category.name, lang)}: {policy.text(category.held_outside, lang)}"


def _default_assignees(rule: Rule):
    """Who gets a task when the customer has no assigned staff: the rule's role, or all."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    if rule.assign_to != "all_staff":
        users = users.filter(groups__name=rule.assign_to)
    return users.order_by("username")


def acknowledge(task: ManualTask, user, now: datetime) -> None:
    """The assignee says it is done; the evidence log keeps who and when."""
    with transaction.atomic():
        updated = ManualTask.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=now)
        if updated:
            append(
                "task_acknowledged",
                actor=f"staff:{user.get_username()}",
                at=now,
                rule=task.rule,
                record_type="customer",
                refs=[task.customer_ref],
                customers=[task.customer_ref],
                data={"task": task.pk, "assignee": task.assignee.get_username()},
            )
    task.refresh_from_db()


def remind(at: date, lang: str | None = None) -> int:
    """E-mail each open task due within a week (or overdue), once a day. Returns mails queued
    (then delivered at once if the relay takes them; if not, they wait in the outbox).
    In `lang` (default: the instance's language, which the tasks' own text is written in)."""
    mailer = _mailer()
    sent = 0
    open_tasks = ManualTask.objects.filter(done_at__isnull=True, due__lte=at + REMIND_BEFORE)
    for task in open_tasks.exclude(reminded=at).select_related("assignee"):
        with transaction.atomic():  # reminded once its mail is queued, and only then
            if task.assignee.email:
                with translation.override(lang or settings.LANGUAGE_CODE):
                    subject, body = _reminder(task, late=task.due < at)
                mailer.queue(subject, body, [task.assignee.email], timezone.now())
                sent += 1
            ManualTask.objects.filter(pk=task.pk).update(reminded=at)
    if sent:
        mailer.deliver()
    return sent


def _reminder(task: ManualTask, late: bool) -> tuple[str, str]:
    """The subject and body of one reminder, in the active language."""
    values = {"what": task.what, "customer": task.customer_ref, "due": task.due}
    if late:
        subject = _("Overdue: %(what)s (customer %(customer)s, due %(due)s)") % values
    else:
        subject = _("Reminder: %(what)s (customer %(customer)s, due %(due)s)") % values
    body = (
        _(
            "%(what)s\n\nCustomer: %(customer)s\nDue: %(due)s\n\n"
            "Confirm in gallra when it is done (Retention › Manual tasks).\n"
        )
        % values
    )
    return subject, body
