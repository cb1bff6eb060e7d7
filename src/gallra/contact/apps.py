from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContactConfig(AppConfig):
    name = "gallra.contact"
    verbose_name = _("contact form and privacy centre")

    def ready(self) -> None:
        from gallra.contact.store import UsedFormTokenStore
        from gallra.retention import stores

        stores.register(UsedFormTokenStore())  # used form time stamps end under their rule
