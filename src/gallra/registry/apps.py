from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    name = "gallra.registry"
    verbose_name = _("Registry")

    def ready(self) -> None:
        from gallra.policy import hooks
        from gallra.registry import crypto
        from gallra.registry.models import personal_fields

        hooks.register_personal_fields(personal_fields)  # each must be in a policy category
        crypto.register_wrapped_keys(crypto.CUSTOMER_KEYS)  # `gallra keys` rewraps them all
