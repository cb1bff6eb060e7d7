"""`gallra tasks list|remind [--at DATE]`: manual deletion tasks (P16)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, npgettext

from gallra.retention.command import DateCommand
from gallra.retention.models import ManualTask
from gallra.retention.tasks import Quiet, create_tasks, follow_staff, quiet, remind


class Command(DateCommand):
    help = gettext_lazy("List open manual tasks, or create missing ones and e-mail reminders.")
    examples = (
        "gallra tasks list",
        "gallra tasks list --format json",
        "gallra tasks remind --at 2026-12-31",
    )

    def add_arguments(self, parser):
        listed = self.action(
            parser, "list", self.list, help=gettext_lazy("open tasks, overdue first")
        )
        self.add_date_arguments(listed)
        self.add_format(listed)
        reminded = self.action(
            parser, "remind", self.remind, help=gettext_lazy("create tasks, e-mail reminders")
        )
        self.add_date_arguments(reminded)
        self.add_format(reminded)

    def remind(self, options):
        policy, at, lang = self.resolve(options)
        now = timezone.now()
        created = create_tasks(policy, at, now)
        created += sum(follow_staff(policy, now, actor="tasks").values())
        sent = remind(at)
        why = quiet(at)
        if options["format"] == "json":
            self.write_json(
                {
                    "created": created,
                    "reminders_sent": sent,
                    "not_mailed": [
                        {"assignee": u.username, "tasks": u.tasks, "left": u.left}
                        for u in why.unreached
                    ],
                    "reminded_today": why.reminded_today,
                    "not_yet_due": why.waiting,
                    "next_reminder": why.next_reminder and why.next_reminder.isoformat(),
                }
            )
            return
        self.stdout.write(_("tasks: %(created)s, %(sent)s") % _counts(created, sent))
        for line in _why(why, sent):
            self.stdout.write("    " + line)

    def list(self, options):
        policy, at, lang = self.resolve(options)
        tasks = ManualTask.objects.filter(done_at__isnull=True).order_by("due")
        if options["format"] == "json":
            self.write_json(
                [
                    {
                        "due": t.due.isoformat(),
                        "late": t.due < at,
                        "assignee": t.assignee.get_username(),
                        "customer": t.customer_ref,
                        "what": t.what,
                    }
                    for t in tasks.select_related("assignee")
                ]
            )
            return
        late = " " + _("(late)")
        for task in tasks:
            who = task.assignee.get_username()
            when = f"{task.due}{late if task.due < at else ''}"
            self.stdout.write(f"{when}  {who}  {task.customer_ref}  {task.what}")


def _why(why: Quiet, sent: int) -> list[str]:
    """Why open tasks were not mailed: whose mail cannot go, and, when none went, whether
    they went earlier today or are not due yet."""
    lines = []
    for user in why.unreached:
        values = {"n": user.tasks, "user": user.username}
        if user.left:
            lines.append(
                ngettext(
                    "%(n)s open task not mailed: %(user)s has left (inactive); it stays open "
                    "(`gallra check`)",
                    "%(n)s open tasks not mailed: %(user)s has left (inactive); they stay open "
                    "(`gallra check`)",
                    user.tasks,
                )
                % values
            )
        else:
            lines.append(
                ngettext(
                    "%(n)s open task not mailed: %(user)s has no e-mail address (set it: "
                    "`gallra staff email %(user)s ADDRESS`)",
                    "%(n)s open tasks not mailed: %(user)s has no e-mail address (set it: "
                    "`gallra staff email %(user)s ADDRESS`)",
                    user.tasks,
                )
                % values
            )
    if sent:
        return lines
    if why.reminded_today:
        lines.append(
            ngettext(
                "%(n)s open task was reminded earlier today (once a day)",
                "%(n)s open tasks were reminded earlier today (once a day)",
                why.reminded_today,
            )
            % {"n": why.reminded_today}
        )
    if why.waiting:
        lines.append(
            ngettext(
                "%(n)s open task is not due within a week; its first reminder goes on %(day)s",
                "%(n)s open tasks are not due within a week; the first reminder goes on %(day)s",
                why.waiting,
            )
            % {"n": why.waiting, "day": why.next_reminder}
        )
    if not lines:
        lines.append(_("no open tasks"))
    return lines


def _counts(created: int, sent: int) -> dict[str, str]:
    """The two counts of `tasks remind`, each in its own plural, in the active language."""
    new = npgettext("tasks", "%(n)s created", "%(n)s created", created)
    # Queued in the outbox: delivered at once, or, the relay down, as soon as it is back.
    reminded = npgettext("tasks", "%(n)s reminder queued", "%(n)s reminders queued", sent)
    return {"created": new % {"n": created}, "sent": reminded % {"n": sent}}
