from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubjectsConfig(AppConfig):
    name = "gallra.subjects"
    verbose_name = _("data-subject requests")

    def ready(self) -> None:
        from gallra import background
        from gallra.retention import stores
        from gallra.subjects import (
            cases,  # noqa: F401 (registers the link mail with the outbox)
            erasure,
            export,
        )
        from gallra.subjects.store import SubjectRequestStore

        stores.register(SubjectRequestStore())  # closed requests end under their rule
        # The admin's Export and Erase buttons start these; a worker or a thread runs them.
        background.register("subject_export", export.export_job)
        background.register("subject_erasure", erasure.erasure_job)
