"""`gallra tasks list|remind [--at DATE]`: manual deletion tasks (P16)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from gallra.retention.command import DateArguments
from gallra.retention.models import ManualTask
from gallra.retention.tasks import create_tasks, remind


class Command(DateArguments, BaseCommand):
    help = "List open manual tasks, or create missing ones and e-mail reminders."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        self.add_date_arguments(sub.add_parser("list", help="open tasks, overdue first"))
        self.add_date_arguments(sub.add_parser("remind", help="create tasks, e-mail reminders"))

    def handle(self, *args, action, **options):
        policy, at, lang = self.resolve(options)
        if action == "remind":
            created = create_tasks(policy, at, timezone.now())
            sent = remind(at)
            self.stdout.write(f"tasks: {created} created, {sent} reminders sent")
            return
        for task in ManualTask.objects.filter(done_at__isnull=True).order_by("due"):
            late = " (försenad)" if task.due < at else ""
            who = task.assignee.get_username()
            self.stdout.write(f"{task.due}{late}  {who}  {task.customer_ref}  {task.what}")
