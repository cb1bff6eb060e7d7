from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomesConfig(AppConfig):
    name = "gallra.homes"
    verbose_name = _("home directories")

    def ready(self) -> None:
        from gallra.homes import grants  # noqa: F401 (connects its signal)
        from gallra.homes.store import HomesStore
        from gallra.retention import stores

        stores.register(HomesStore())  # P3: ended grants go before the registry's deletions
