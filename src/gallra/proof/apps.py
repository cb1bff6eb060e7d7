from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProofConfig(AppConfig):
    name = "gallra.proof"
    verbose_name = _("proof of erasure")
