from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    name = "gallra.sync"
    verbose_name = _("Facts from the source (sync)")

    def ready(self) -> None:
        from gallra.retention import signals
        from gallra.sync.accounts import forget_deleted_accounts

        # An account retention deletes takes what sync remembered of it along (same batch).
        signals.records_deleted.connect(forget_deleted_accounts, dispatch_uid="sync.forget")
