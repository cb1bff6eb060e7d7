from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomesConfig(AppConfig):
    name = "gallra.homes"
    verbose_name = _("home directories")
