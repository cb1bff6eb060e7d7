from datetime import datetime

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstanceConfig(AppConfig):
    name = "gallra.instance"
    verbose_name = _("Instance")

    def ready(self) -> None:
        from gallra.instance import staff
        from gallra.instance.stores import OutboxStore
        from gallra.retention import stores, tasks

        stores.register(OutboxStore())
        # The task reminders go through the outbox, which retention may not import.
        tasks.register_mailer(tasks.Mailer(queue=_queue_task_reminder, deliver=staff.deliver_now))


def _queue_task_reminder(subject: str, body: str, to: list[str], now: datetime) -> None:
    from gallra.instance.staff import queue_staff_mail

    queue_staff_mail(subject, body, to, kind="task_reminder", now=now)
