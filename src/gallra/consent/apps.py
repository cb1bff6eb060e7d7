from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "gallra.consent"
    verbose_name = _("cookie consent")
