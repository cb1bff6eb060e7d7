from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoginsConfig(AppConfig):
    name = "gallra.logins"
    verbose_name = _("login monitoring")

    def ready(self) -> None:
        from gallra.logins.sealing import MONTH_KEYS
        from gallra.logins.store import LoginStore, WebEventMarkStore, forget_deleted_accounts
        from gallra.registry import crypto
        from gallra.retention import signals, stores

        crypto.register_wrapped_keys(MONTH_KEYS)  # `gallra keys rotate` rewraps them

        stores.register(LoginStore())
        stores.register(WebEventMarkStore())  # duplicate marks end under their own rule
        signals.records_deleted.connect(forget_deleted_accounts, dispatch_uid="logins.forget")
