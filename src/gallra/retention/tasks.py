"""Manual tasks (P16): deletion only a person can do, assigned, reminded and acknowledged.

When a customer's relationship ends, each manual rule of the policy gives every member of
the customer's staff (or, when none is assigned, the rule's role, or all staff) a task with
the rule's due date. Reminders go by e-mail from a week before the due date until done.
Acknowledging a task is recorded in the evidence log.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, Max, OuterRef

from gallra.evidence.log import append
from gallra.policy.model import Policy, Rule
from gallra.registry.models import Customer
from gallra.retention.kinds import KINDS
from gallra.retention.models import ManualTask
from gallra.retention.planner import due_date

REMIND_BEFORE = timedelta(days=7)
CHUNK = 1000


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


def remind(at: date) -> int:
    """E-mail each open task due within a week (or overdue), once a day. Returns mails sent."""
    sent = 0
    open_tasks = ManualTask.objects.filter(done_at__isnull=True, due__lte=at + REMIND_BEFORE)
    for task in open_tasks.exclude(reminded=at).select_related("assignee"):
        if task.assignee.email:
            late = task.due < at
            subject = (
                f"{'Försenad' if late else 'Påminnelse'}: {task.what} "
                f"(kund {task.customer_ref}, senast {task.due})"
            )
            body = (
                f"{task.what}\n\nKund: {task.customer_ref}\nSenast: {task.due}\n\n"
                "Bekräfta i gallra när det är gjort (Gallring › Manuella uppgifter).\n"
                "Confirm in gallra when it is done (Retention › Manual tasks).\n"
            )
            send_mail(subject, body, None, [task.assignee.email])
            sent += 1
        ManualTask.objects.filter(pk=task.pk).update(reminded=at)
    return sent
