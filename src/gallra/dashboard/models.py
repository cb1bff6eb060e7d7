"""The deletion chart's counts, kept for the day (dashboard/forecast.py).

Counting what retention deletes in the coming days takes the database longer than the rest
of the front page together, so it is counted once a day, when `enforce` runs, and the page
reads it. Counts per record type and rule: no personal data.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Forecast(models.Model):
    class By(models.TextChoices):
        ENFORCE = "enforce", _("enforce")
        PAGE = "page", _("the front page, before enforce ran that day")
        CHANGED = "changed", _("the front page, after the registry changed")

    counted_on = models.DateField(_("counted for"), unique=True)  # the window's first day
    counted_at = models.DateTimeField(_("counted at"))
    by = models.CharField(_("counted by"), max_length=10, choices=By.choices)
    # What the count depends on that may change during the day (forecast.registry_state).
    state = models.TextField(_("registry state"))
    rules = models.JSONField(_("rules"))  # the rules that reach registry records, in order
    counts = models.JSONField(_("counts"))  # [[days after counted_on, rule, record type, n]]

    plain_fields = ("id", "counted_on", "counted_at", "by", "state", "rules", "counts")

    class Meta:
        verbose_name = _("deletion forecast")
        verbose_name_plural = _("deletion forecasts")

    def __str__(self) -> str:
        return f"{self.counted_on} ({self.by})"
