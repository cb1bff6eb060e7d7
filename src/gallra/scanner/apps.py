from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScannerConfig(AppConfig):
    name = "gallra.scanner"
    verbose_name = _("personal-data scanner")
