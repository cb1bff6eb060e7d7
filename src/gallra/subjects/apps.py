from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubjectsConfig(AppConfig):
    name = "gallra.subjects"
    verbose_name = _("data-subject requests")

    def ready(self) -> None:
        from gallra.subjects import cases  # noqa: F401 (registers the link mail with the outbox)
