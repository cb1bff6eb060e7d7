from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StaffConfig(AppConfig):
    name = "gallra.staff"
    verbose_name = _("Staff")

    def ready(self) -> None:
        from gallra.retention import stores
        from gallra.staff.store import LoginFailureStore

        stores.register(LoginFailureStore())  # failed staff logins end under their rule
