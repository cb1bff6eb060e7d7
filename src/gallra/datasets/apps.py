from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DatasetsConfig(AppConfig):
    name = "gallra.datasets"
    verbose_name = _("datasets")

    def ready(self) -> None:
        from gallra.datasets.sources import check_against_database
        from gallra.datasets.store import DatasetStore
        from gallra.policy import hooks
        from gallra.retention import stores

        hooks.register_dataset_check(check_against_database)  # `gallra policy check`
        stores.register(DatasetStore())
