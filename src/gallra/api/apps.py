from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "gallra.api"
    verbose_name = _("HTTP API")

    def ready(self) -> None:
        from gallra.api.store import ApiEventMarkStore
        from gallra.retention import stores

        stores.register(ApiEventMarkStore())  # duplicate marks end under their own rule
