"""`gallra tasks list|remind [--at DATE]`: manual deletion tasks (P16)."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, npgettext

from gallra.retention.command import DateCommand
from gallra.retention.models import ManualTask
from gallra.retention.tasks import create_tasks, remind


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
        created = create_tasks(policy, at, timezone.now())
        sent = remind(at)
        if options["format"] == "json":
            self.write_json({"created": created, "reminders_sent": sent})
        else:
            self.stdout.write(_("tasks: %(created)s, %(sent)s") % _counts(created, sent))

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


def _counts(created: int, sent: int) -> dict[str, str]:
    """The two counts of `tasks remind`, each in its own plural, in the active language."""
    new = npgettext("tasks", "%(n)s created", "%(n)s created", created)
    # Queued in the outbox: delivered at once, or, the relay down, as soon as it is back.
    reminded = npgettext("tasks", "%(n)s reminder queued", "%(n)s reminders queued", sent)
    return {"created": new % {"n": created}, "sent": reminded % {"n": sent}}
