from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "gallra.consent"
    verbose_name = _("cookie consent")

    def ready(self) -> None:
        from gallra.consent.store import ConsentProofStore
        from gallra.retention import stores

        stores.register(ConsentProofStore())  # consent proofs end under their rule
