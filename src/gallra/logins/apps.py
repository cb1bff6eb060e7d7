from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoginsConfig(AppConfig):
    name = "gallra.logins"
    verbose_name = _("login monitoring")

    def ready(self) -> None:
        from gallra.logins.store import LoginStore, WebEventMarkStore, forget_deleted_accounts
        from gallra.retention import signals, stores

        stores.register(LoginStore())
        stores.register(WebEventMarkStore())  # duplicate marks end under their own rule
        signals.records_deleted.connect(forget_deleted_accounts, dispatch_uid="logins.forget")
