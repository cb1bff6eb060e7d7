from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomesConfig(AppConfig):
    name = "gallra.homes"
    verbose_name = _("home directories")

    def ready(self) -> None:
        from gallra.homes import grants  # noqa: F401 (connects its signal)
