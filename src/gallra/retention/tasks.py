"""Manual tasks (P16): deletion only a person can do, assigned, reminded and acknowledged.

When a customer's relationship ends, each manual rule of the policy gives every member of
the customer's staff (or, when none is assigned, the rule's role, or all staff) a task with
the rule's due date. Reminders go by e-mail from a week before the due date until done.
Acknowledging a task is recorded in the evidence log.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max

from gallra.evidence.log import append
from gallra.policy.model import Policy, Rule
from gallra.registry.models import Customer
from gallra.retention.kinds import KINDS
from gallra.retention.models import ManualTask
from gallra.retention.planner import due_date

REMIND_BEFORE = timedelta(days=7)


def create_tasks(policy: Policy, at: date, now: datetime, lang: str | None = None) -> int:
    """Tasks for every relationship that has ended by `at`; existing tasks are left alone."""
    lang = lang or policy.languages[0]
    created = 0
    for rule in (r for r in policy.rule if r.action == "manual"):
        ended = KINDS["customer"].triggers[rule.trigger].due_q(at)
        customers = Customer.objects.filter(ended).annotate(ended_on=Max("agreements__end"))
        for customer in customers.prefetch_related("staff").iterator(chunk_size=500):
            due = due_date(rule, customer.ended_on)
            with transaction.atomic():
                made = [
                    user.username
                    for user in _assignees(rule, customer)
                    if ManualTask.objects.get_or_create(
                        rule=rule.id, customer_ref=customer.ref, assignee=user,
                        defaults={"what": _what(policy, rule, lang), "created": now,
                                  "due": due},
                    )[1]
                ]  # fmt: skip
                if made:
                    append("task_created", actor="enforce", at=now, rule=rule.id,
                           record_type="customer", refs=[customer.ref], customers=[customer.ref],
                           data={"assignees": made, "due": due.isoformat()})  # fmt: skip
            created += len(made)
    return created


def _what(policy: Policy, rule: Rule, lang: str) -> str:
    if rule.task is not None:
        return policy.text(rule.task, lang)
    category = policy.category_by_id(rule.applies_to[0])
    return f"{policy.text(category.name, lang)}: {policy.text(category.held_outside, lang)}"


def _assignees(rule: Rule, customer: Customer):
    staff = [u for u in customer.staff.all() if u.is_active]
    if staff:
        return staff
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    if rule.assign_to != "all_staff":
        users = users.filter(groups__name=rule.assign_to)
    return users.order_by("username")


def acknowledge(task: ManualTask, user, now: datetime) -> None:
    """The assignee says it is done; the evidence log keeps who and when."""
    with transaction.atomic():
        updated = ManualTask.objects.filter(pk=task.pk, done_at__isnull=True).update(done_at=now)
        if updated:
            append("task_acknowledged", actor=f"staff:{user.get_username()}", at=now,
                   rule=task.rule, record_type="customer", refs=[task.customer_ref],
                   customers=[task.customer_ref],
                   data={"task": task.pk, "assignee": task.assignee.get_username()})  # fmt: skip
    task.refresh_from_db()


def remind(at: date) -> int:
    """E-mail each open task due within a week (or overdue), once a day. Returns mails sent."""
    sent = 0
    open_tasks = ManualTask.objects.filter(done_at__isnull=True, due__lte=at + REMIND_BEFORE)
    for task in open_tasks.exclude(reminded=at).select_related("assignee"):
        if task.assignee.email:
            late = task.due < at
            subject = (f"{'Försenad' if late else 'Påminnelse'}: {task.what} "
                       f"(kund {task.customer_ref}, senast {task.due})")  # fmt: skip
            body = (
                f"{task.what}\n\nKund: {task.customer_ref}\nSenast: {task.due}\n\n"
                "Bekräfta i gallra när det är gjort (Gallring › Manuella uppgifter).\n"
                "Confirm in gallra when it is done (Retention › Manual tasks).\n"
            )
            send_mail(subject, body, None, [task.assignee.email])
            sent += 1
        ManualTask.objects.filter(pk=task.pk).update(reminded=at)
    return sent
