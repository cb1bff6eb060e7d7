"""Manual tasks (P16): deletion only a person can do, assigned, reminded and acknowledged.

When a customer's relationship ends, each manual rule of the policy gives every member of
the customer's staff (or, when none is assigned, the rule's role, or all staff) a task with
the rule's due date. Reminders go by e-mail from a week before the due date until done.
Acknowledging a task is recorded in the evidence log. The open tasks follow the staff
(`follow_staff`): who joins, or takes the role, later gets one too.

The reminders go through the outbox, which retention may not import: the instance app
registers how they are queued and delivered (`register_mailer`, from its AppConfig.ready()).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gallra.evidence.log import append
from gallra.policy.loading import ALL_STAFF
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
            .values_list("pk", "ref")
            .annotate(ended_on=Max("agreements__end"))
            .order_by("pk")
        )
        fallback = list(_default_assignees(rule))
        what = _what(policy, rule, lang)
        chunk: list[tuple] = []
        for customer in customers.iterator(chunk_size=CHUNK):
            chunk.append(customer)
            if len(chunk) == CHUNK:
                created += _create_chunk(rule, chunk, fallback, what, now)
                chunk = []
        if chunk:
            created += _create_chunk(rule, chunk, fallback, what, now)
    return created


def _assigned_staff(customer_ids) -> dict[int, list]:
    """The active staff assigned to each customer (by primary key)."""
    staff = defaultdict(list)
    links = Customer.staff.through.objects.filter(
        customer_id__in=list(customer_ids), user__is_active=True
    ).select_related("user")
    for link in links:
        staff[link.customer_id].append(link.user)
    return staff


class NewTask(NamedTuple):
    """A task to write (a model instance each took most of the time of writing thousands)."""

    customer_ref: str
    assignee: Any  # the user
    what: str
    due: date


def _record(rule: Rule, tasks: list[NewTask], now, actor: str, **data) -> list[NewTask]:
    """Write the tasks and their evidence entry in one transaction."""
    if not tasks:
        return []
    with transaction.atomic():
        _insert_tasks(rule, tasks, now)
        append(
            "task_created",
            actor=actor,
            at=now,
            rule=rule.id,
            record_type="customer",
            refs=sorted({t.customer_ref for t in tasks}),
            customers={t.customer_ref for t in tasks},
            count=len(tasks),
            data={"assignees": sorted({t.assignee.get_username() for t in tasks}), **data},
        )
    return tasks


def _insert_tasks(rule: Rule, tasks: list[NewTask], now: datetime) -> None:
    """Insert the tasks, skipping any a person already has (the unique constraint).

    One statement, not a model save path per task: a year of ended customers is thousands.
    """
    ops = connection.ops
    table = ops.quote_name(ManualTask._meta.db_table)
    columns = "rule, customer_ref, assignee_id, what, created, due"
    conflict = "ON CONFLICT (rule, customer_ref, assignee_id) DO NOTHING"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":  # one array per column
            cursor.execute(
                f"INSERT INTO {table} ({columns}) SELECT * FROM unnest(%s::varchar[], "  # noqa: S608
                f"%s::varchar[], %s::integer[], %s::varchar[], %s::timestamptz[], %s::date[]) "
                f"{conflict}",
                [list(column) for column in zip(*_task_rows(rule, tasks, now), strict=True)],
            )
        else:  # SQLite runs a prepared statement per row in C, in this process
            marks = ", ".join(["%s"] * 6)
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) {conflict}",  # noqa: S608
                _task_rows(rule, tasks, now),
            )


def _task_rows(rule: Rule, tasks: list[NewTask], now: datetime) -> list[tuple]:
    ops = connection.ops
    created = ops.adapt_datetimefield_value(now)
    return [
        (rule.id, t.customer_ref, t.assignee.pk, t.what, created, ops.adapt_datefield_value(t.due))
        for t in tasks
    ]


def _create_chunk(rule: Rule, customers: list[tuple], fallback, what: str, now) -> int:
    """Tasks for (pk, ref, ended_on) of customers."""
    staff = _assigned_staff(pk for pk, _, _ in customers)
    dues: dict[date, date] = {}  # relationships end on few distinct days
    tasks = [
        NewTask(
            ref,
            user,
            what,
            dues.get(ended_on) or dues.setdefault(ended_on, due_date(rule, ended_on)),
        )
        for pk, ref, ended_on in customers
        for user in staff[pk] or fallback
    ]
    return len(_record(rule, tasks, now, "enforce"))


def follow_staff(policy: Policy, now: datetime, *, actor: str = "enforce") -> dict[str, int]:
    """Open tasks follow the staff: whoever answers for a customer's task now gets one.

    A customer's task is open while anyone's task for it (same rule) is not done. Who
    answers for it is worked out as when it was made: the customer's active assigned staff,
    or else the rule's role (whoever holds it now) or, for `all_staff`, every active staff
    member. Whoever of them has no task for it yet gets one, with the same due date; nobody
    gets one twice (the unique constraint, and the check first), existing tasks are never
    taken away (a person who left or changed role keeps theirs, reported by `gallra check`).
    A customer whose record is gone is left as it is: who was assigned is no longer known.

    Called by enforce's task step, `gallra tasks remind` and after each staff change (add,
    role, sync). Returns the tasks added per user name; an evidence entry per chunk.
    """
    added: dict[str, int] = defaultdict(int)
    for rule in (r for r in policy.rule if r.action == "manual"):
        fallback = list(_default_assignees(rule))
        refs = list(
            ManualTask.objects.filter(rule=rule.id, done_at__isnull=True)
            .values_list("customer_ref", flat=True)
            .distinct()
            .order_by("customer_ref")
        )
        for start in range(0, len(refs), CHUNK):
            _follow_chunk(rule, refs[start : start + CHUNK], fallback, now, actor, added)
    return dict(sorted(added.items()))


def _follow_chunk(rule: Rule, refs: list[str], fallback, now, actor: str, added) -> None:
    customers = dict(Customer.objects.filter(ref__in=refs).values_list("pk", "ref"))
    staff = {customers[pk]: users for pk, users in _assigned_staff(customers).items()}
    mine = ManualTask.objects.filter(rule=rule.id, customer_ref__in=refs)
    has = set(mine.values_list("customer_ref", "assignee_id"))
    open_ = {
        row["customer_ref"]: row
        for row in mine.filter(done_at__isnull=True)
        .values("customer_ref")
        .annotate(first_due=Min("due"), text=Max("what"))
    }
    tasks = [
        NewTask(ref, user, open_[ref]["text"], open_[ref]["first_due"])
        for ref in sorted(customers.values())
        if ref in open_
        for user in staff.get(ref) or fallback
        if (ref, user.pk) not in has
    ]
    made = _record(rule, tasks, now, actor, why="staff_changed")
    for task in made:
        added[task.assignee.get_username()] += 1


def _what(policy: Policy, rule: Rule, lang: str) -> str:
    if rule.task is not None:
        return policy.text(rule.task, lang)
    category = policy.category_by_id(rule.applies_to[0])
    return f"{policy.text(category.name, lang)}: {policy.text(category.held_outside, lang)}"


def _default_assignees(rule: Rule):
    """Who gets a task when the customer has no assigned staff: the rule's role, or all."""
    users = get_user_model().objects.filter(is_active=True, is_staff=True)
    if rule.assign_to != ALL_STAFF:
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
    # Who left is not mailed, nor who has no address (`quiet` says so): not marked reminded
    # either, so that an address set later the same day gets the reminder at the next run.
    reached = open_tasks.filter(assignee__is_active=True).exclude(assignee__email="")
    for task in reached.exclude(reminded=at).select_related("assignee"):
        with transaction.atomic():  # reminded once its mail is queued, and only then
            with translation.override(lang or settings.LANGUAGE_CODE):
                subject, body = _reminder(task, late=task.due < at)
            mailer.queue(subject, body, [task.assignee.email], timezone.now())
            sent += 1
            ManualTask.objects.filter(pk=task.pk).update(reminded=at)
    if sent:
        mailer.deliver()
    return sent


@dataclass(frozen=True)
class Unreached:
    """A staff member whose open tasks no reminder reaches: they left, or have no e-mail."""

    username: str
    tasks: int
    left: bool  # inactive (left); otherwise active with no e-mail address


def unreached(due_by: date | None = None) -> list[Unreached]:
    """Whose open tasks (due by `due_by`, or all) are not mailed, and why: `tasks remind`
    says so, and `gallra check` fails on it. Those who left first, then by user name."""
    username = f"assignee__{get_user_model().USERNAME_FIELD}"
    open_tasks = ManualTask.objects.filter(done_at__isnull=True)
    if due_by is not None:
        open_tasks = open_tasks.filter(due__lte=due_by)
    rows = (
        open_tasks.filter(Q(assignee__is_active=False) | Q(assignee__email=""))
        .values(username, "assignee__is_active")
        .annotate(n=Count("pk"))
        .order_by("assignee__is_active", username)
    )
    return [Unreached(r[username], r["n"], not r["assignee__is_active"]) for r in rows]


@dataclass(frozen=True)
class Quiet:
    """Why `remind` mailed no more than it did, as of `at`."""

    unreached: list[Unreached]  # all open tasks, due soon or not: told before they are due
    reminded_today: int  # reached, and reminded earlier the same day
    waiting: int  # open tasks not yet within a week of their due date
    next_reminder: date | None  # when the first of those is reminded


def quiet(at: date) -> Quiet:
    """The open tasks `remind(at)` did not (or could not) mail, in counts."""
    window = at + REMIND_BEFORE
    open_tasks = ManualTask.objects.filter(done_at__isnull=True)
    later = open_tasks.filter(due__gt=window).aggregate(n=Count("pk"), first=Min("due"))
    reached = Q(assignee__is_active=True) & ~Q(assignee__email="")
    today = open_tasks.filter(reached, due__lte=window, reminded=at).count()
    first = later["first"]
    return Quiet(unreached(), today, later["n"], first - REMIND_BEFORE if first else None)


@dataclass(frozen=True)
class Unreachable:
    """A rule's tasks that reach no one: a line on the dashboard (docs/dashboard.md)."""

    rule: str
    refs: list[str]  # the first customers concerned
    total: int
    role: str = ""  # set when no active staff member holds the rule's role

    def __str__(self) -> str:
        shown = ", ".join(self.refs) + (", …" if self.total > len(self.refs) else "")
        if self.role:
            return ngettext(
                "%(rule)s: %(n)s ended customer (%(refs)s) has no task, as no active staff "
                "member has the role %(role)s: give it to someone with "
                "`gallra staff role USER %(role)s`",
                "%(rule)s: %(n)s ended customers (%(refs)s) have no task, as no active staff "
                "member has the role %(role)s: give it to someone with "
                "`gallra staff role USER %(role)s`",
                self.total,
            ) % {"rule": self.rule, "n": self.total, "refs": shown, "role": self.role}
        return ngettext(
            "%(rule)s: the open task of %(n)s customer (%(refs)s) reaches no one: whoever has "
            "it left or has no e-mail address (`gallra tasks list`; `gallra staff email USER "
            "ADDRESS`, `gallra staff role USER ROLE`)",
            "%(rule)s: the open tasks of %(n)s customers (%(refs)s) reach no one: whoever has "
            "them left or has no e-mail address (`gallra tasks list`; `gallra staff email USER "
            "ADDRESS`, `gallra staff role USER ROLE`)",
            self.total,
        ) % {"rule": self.rule, "n": self.total, "refs": shown}


def unreachable(policy: Policy, at: date, shown: int = 5) -> list[Unreachable]:
    """Tasks nobody can receive: a customer's open tasks whose assignees all left or have no
    e-mail address; and, for a rule whose role no active staff member holds, the ended
    customers left without a task (no one to give it to). A fixed number of queries per
    manual rule, whatever the number of tasks."""
    found = []
    reached = Q(assignee__is_active=True) & ~Q(assignee__email="")
    for rule in (r for r in policy.rule if r.action == "manual"):
        pairs = (
            ManualTask.objects.filter(rule=rule.id, done_at__isnull=True)
            .values("customer_ref")
            .annotate(ok=Count("pk", filter=reached))
            .filter(ok=0)
            .order_by("customer_ref")
            .values_list("customer_ref", flat=True)
        )
        total = pairs.count()
        if total:
            found.append(Unreachable(rule.id, list(pairs[:shown]), total))
        if rule.assign_to == ALL_STAFF or _default_assignees(rule).exists():
            continue
        ended = KINDS["customer"].triggers[rule.trigger].due_q(at)
        has_task = ManualTask.objects.filter(rule=rule.id, customer_ref=OuterRef("ref"))
        assigned = Customer.staff.through.objects.filter(
            customer_id=OuterRef("pk"), user__is_active=True
        )
        nobody = (
            Customer.objects.filter(ended)
            .exclude(Exists(has_task))
            .exclude(Exists(assigned))
            .order_by("ref")
            .values_list("ref", flat=True)
        )
        total = nobody.count()
        if total:
            found.append(Unreachable(rule.id, list(nobody[:shown]), total, rule.assign_to))
    return found


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
