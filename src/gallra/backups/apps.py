from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "gallra.backups"
    verbose_name = _("backups")

    def ready(self) -> None:
        from gallra.backups import keys
        from gallra.registry import crypto

        crypto.keys_destroyed.connect(keys.after_destruction, dispatch_uid="backups.keys")
