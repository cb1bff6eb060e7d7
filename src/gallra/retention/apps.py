from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "gallra.retention"
    verbose_name = _("Retention")

    def ready(self) -> None:
        from gallra.evidence import actions
        from gallra.retention import certificate, memory, own, stores

        stores.register(memory.DeletionMemory())
        stores.register(own.EvidenceStore())
        actions.register(
            "certificate",
            help="A deletion certificate for one customer.",
            add_arguments=certificate.add_command_arguments,
            handle=certificate.command,
        )
