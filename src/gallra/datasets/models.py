"""What gallra keeps about retention in the provider's datasets: keys, rules and counts only.

* `DueRow`: a row that a run found due and has not yet recorded as deleted or overwritten.
  `applying` is set before gallra changes the row at its source and cleared (the mark goes)
  with the evidence entry, so a run stopped between the two is finished by the next. `plan`
  and dry runs mark in a scope of their own, in a transaction they roll back, so that they
  never touch (or wait for) the marks of an `enforce` running meanwhile.
* `Outage`: a dataset that could not be reached, since when, and whether its staff were told:
  one alert per outage.
* `Forecast`: how many rows each rule makes due on each of the coming days, as the last
  `enforce` or `plan` counted them, so that the front page never opens a provider's database.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DueRow(models.Model):
    scope = models.CharField(max_length=32, blank=True)  # "": enforce's; else a plan's own
    at = models.DateField(_("deletion date"))  # the day of the run that found it due
    dataset = models.CharField(_("dataset"), max_length=100)
    table = models.CharField(_("table"), max_length=63)
    position = models.PositiveSmallIntegerField()  # the table's place in the declaration
    key = models.CharField(_("key"), max_length=200)  # the row's primary key, as text
    key_is_int = models.BooleanField(default=False)  # ... and whether it was a number
    rule = models.CharField(_("rule"), max_length=100)
    erase = models.CharField(_("erase"), max_length=10)  # "delete" or "overwrite"
    due = models.DateField(_("due since"), null=True, blank=True)
    own = models.BooleanField(default=True)  # due by its own rules, not only with its parent
    applying = models.DateTimeField(_("being changed since"), null=True, blank=True)

    plain_fields = (
        *("id", "scope", "at", "dataset", "table", "position", "key", "key_is_int", "rule"),
        "erase",
        *("due", "own", "applying"),
    )

    class Meta:
        verbose_name = _("dataset row due")
        verbose_name_plural = _("dataset rows due")
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "dataset", "table", "key"], name="one_mark_per_row"
            )
        ]
        indexes = [models.Index(fields=["scope", "dataset", "table", "id"])]

    def __str__(self) -> str:
        return self.ref

    @property
    def ref(self) -> str:
        return f"{self.dataset}:{self.table}:{self.key}"

    @property
    def source_key(self) -> int | str:
        """The key as the source database holds it."""
        return int(self.key) if self.key_is_int else self.key


class Outage(models.Model):
    dataset = models.CharField(_("dataset"), max_length=100, unique=True)
    since = models.DateTimeField(_("unreachable since"))
    problem = models.TextField(_("problem"))  # the driver's first line: host, port, error
    alerted = models.DateTimeField(_("staff alerted"), null=True, blank=True)

    plain_fields = ("id", "dataset", "since", "problem", "alerted")

    class Meta:
        verbose_name = _("dataset outage")
        verbose_name_plural = _("dataset outages")

    def __str__(self) -> str:
        return f"{self.dataset} ({self.since:%Y-%m-%d %H:%M})"


class Forecast(models.Model):
    counted_on = models.DateField(_("counted for"))  # the `at` of the run that counted it
    day = models.DateField(_("day of deletion"))
    dataset = models.CharField(_("dataset"), max_length=100)
    table = models.CharField(_("table"), max_length=63)
    rule = models.CharField(_("rule"), max_length=100)
    rows = models.PositiveIntegerField(_("rows"))

    plain_fields = ("id", "counted_on", "day", "dataset", "table", "rule", "rows")

    class Meta:
        verbose_name = _("dataset deletion forecast")
        verbose_name_plural = _("dataset deletion forecasts")
        indexes = [models.Index(fields=["dataset", "counted_on"])]

    def __str__(self) -> str:
        return f"{self.day} {self.dataset}:{self.table} {self.rule}: {self.rows}"
