from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubjectsConfig(AppConfig):
    name = "gallra.subjects"
    verbose_name = _("data-subject requests")

    def ready(self) -> None:
        from gallra.policy import hooks
        from gallra.subjects import cases  # noqa: F401 (registers the link mail with the outbox)
        from gallra.subjects.datasets import check_against_database

        hooks.register_dataset_check(check_against_database)  # `gallra policy check`
