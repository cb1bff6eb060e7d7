from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailboxesConfig(AppConfig):
    name = "gallra.mailboxes"
    verbose_name = _("mailboxes")

    def ready(self) -> None:
        from gallra.mailboxes.store import MailStore
        from gallra.retention import stores

        stores.register(MailStore())
