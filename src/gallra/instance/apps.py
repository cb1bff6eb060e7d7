from datetime import datetime

from django.apps import AppConfig
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class InstanceConfig(AppConfig):
    name = "gallra.instance"
    verbose_name = _("Instance")

    def ready(self) -> None:
        from gallra.instance import staff
        from gallra.instance.stores import OutboxStore
        from gallra.registry import crypto
        from gallra.retention import stores, tasks

        stores.register(OutboxStore())
        # Mail waiting in the outbox is sealed under the master key too: `gallra keys`
        # reseals it on rotation (the registry imports neither the outbox nor this app).
        crypto.register_wrapped_keys(
            crypto.WrappedKeys("outbox_mails", _outbox_counts, _outbox_reseal, _outbox_mails)
        )
        # The task reminders go through the outbox, which retention may not import.
        tasks.register_mailer(tasks.Mailer(queue=_queue_task_reminder, deliver=staff.deliver_now))
        if settings.GALLRA_JOB_QUEUE:  # a queued mail wakes a worker (instance/jobs.py)
            from django.db.models.signals import post_save

            from gallra.instance import jobs  # noqa: F401 (registers the queue's tasks)
            from gallra.outbox.models import Mail

            post_save.connect(_mail_queued, sender=Mail, dispatch_uid="gallra.wake_mail")
            _unregister_queue_admin()


def _unregister_queue_admin() -> None:
    """The queue's own admin pages show jobs' raw arguments and are built for a developer:
    staff read the jobs with `gallra jobs list`, and the front page says when no worker runs."""
    from django.apps import apps
    from django.contrib import admin

    for model in apps.get_app_config("procrastinate").get_models():
        if admin.site.is_registered(model):
            admin.site.unregister(model)


def _mail_queued(sender, instance, created: bool, **kwargs) -> None:
    if created:
        from gallra.instance.jobs import wake_mail

        wake_mail()


def _queue_task_reminder(subject: str, body: str, to: list[str], now: datetime) -> None:
    from gallra.instance.staff import queue_staff_mail

    queue_staff_mail(subject, body, to, kind="task_reminder", now=now)


def _outbox_counts() -> dict[str, int]:
    from gallra.outbox import sealing
    from gallra.registry.crypto import master_id

    return {master_id(master): n for master, n in sealing.counts().items()}


def _outbox_reseal(batch: int) -> int:
    from gallra.outbox import sealing

    return sealing.reseal(batch)


def _outbox_mails(n: int) -> str:
    return ngettext("%(n)s mail waiting in the outbox", "%(n)s mails waiting in the outbox", n) % {
        "n": n
    }
