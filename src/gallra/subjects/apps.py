from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubjectsConfig(AppConfig):
    name = "gallra.subjects"
    verbose_name = _("data-subject requests")

    def ready(self) -> None:
        from gallra.retention import stores
        from gallra.subjects import cases  # noqa: F401 (registers the link mail with the outbox)
        from gallra.subjects.store import SubjectRequestStore

        stores.register(SubjectRequestStore())  # closed requests end under their rule
