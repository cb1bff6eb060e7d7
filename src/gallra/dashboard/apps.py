from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "gallra.dashboard"
    verbose_name = _("Dashboard")

    def ready(self) -> None:
        # The deletion forecast is counted when `enforce` has run, and counted again when a
        # record is saved one by one (dashboard/forecast.py).
        from django.db.models.signals import post_save

        from gallra.dashboard import forecast
        from gallra.registry.models import Hold
        from gallra.retention.kinds import KINDS
        from gallra.retention.signals import enforcement_finished

        enforcement_finished.connect(forecast.enforcement_finished, dispatch_uid="dashboard")
        for model in {*(k.model for k in KINDS.values()), Hold}:
            post_save.connect(forecast.registry_changed, model, dispatch_uid="dashboard")
