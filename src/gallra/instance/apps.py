from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InstanceConfig(AppConfig):
    name = "gallra.instance"
    verbose_name = _("Instance")

    def ready(self) -> None:
        from gallra.instance.stores import OutboxStore
        from gallra.retention import stores

        stores.register(OutboxStore())
