"""The state of enforcement runs: what a run decided to delete, and how far it got.

A run first writes every due record into `DueRecord` in one transaction (the decision),
then deletes them batch by batch, one transaction each: the records, their evidence entry
and their DueRecord rows go together. Killed at any point, the next run finishes the
unfinished one: nothing is decided twice, deleted twice or left unlogged.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class EnforcementRun(models.Model):
    at = models.DateField(_("deletion date"))
    started = models.DateTimeField(_("started"))
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    actor = models.CharField(_("run by"), max_length=100)
    due = models.PositiveIntegerField(_("records due"), default=0)

    plain_fields = ("id", "at", "started", "finished", "actor", "due")

    class Meta:
        verbose_name = _("enforcement run")
        verbose_name_plural = _("enforcement runs")
        ordering = ["-started"]

    def __str__(self) -> str:
        return f"{self.at} ({self.started:%Y-%m-%d %H:%M})"


class DueRecord(models.Model):
    """One record a run decided to delete. Refs only: never the record's personal data."""

    run = models.ForeignKey(EnforcementRun, models.CASCADE, related_name="records")
    stage = models.PositiveSmallIntegerField()  # deletion order: dependants first
    record_type = models.CharField(max_length=30)
    record_id = models.BigIntegerField()
    ref = models.CharField(max_length=100)
    rule = models.CharField(max_length=100)
    customer_ref = models.CharField(max_length=100, blank=True)

    plain_fields = ("id", "run", "stage", "record_type", "record_id", "ref", "rule", "customer_ref")

    class Meta:
        verbose_name = _("due record")
        verbose_name_plural = _("due records")
        indexes = [
            models.Index(fields=["run", "stage", "id"]),  # the deletion order
            models.Index(fields=["run", "record_type", "record_id"]),  # "is this row going?"
        ]

    def __str__(self) -> str:
        return f"{self.record_type} {self.ref} ({self.rule})"


class ManualTask(models.Model):
    """Deletion that only a person can do, such as phone contacts on a staff phone (P16)."""

    rule = models.CharField(_("rule"), max_length=100)
    customer_ref = models.CharField(_("customer reference"), max_length=100)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="manual_tasks",
        verbose_name=_("assigned to"),
    )
    what = models.CharField(_("task"), max_length=300)
    created = models.DateTimeField(_("created"))
    due = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    reminded = models.DateField(_("last reminder"), null=True, blank=True)

    plain_fields = (
        *("id", "rule", "customer_ref", "assignee", "what"),
        *("created", "due", "done_at", "reminded"),
    )

    class Meta:
        verbose_name = _("manual task")
        verbose_name_plural = _("manual tasks")
        ordering = ["done_at", "due"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "customer_ref", "assignee"], name="one_task_per_person"
            )
        ]

    def __str__(self) -> str:
        return f"{self.what} ({self.customer_ref})"


class Arming(models.Model):
    """A person's (or the setting's) go-ahead for the unattended runs to delete under these
    retention rules. Enforcement is armed while the policy's retention part has this digest."""

    class How(models.TextChoices):
        COMMAND = "command", _("by the command gallra enforce --arm")
        SETTING = "setting", _("by the setting GALLRA_ENFORCE_ARMED=1")

    digest = models.CharField(_("digest of the retention rules"), max_length=64)
    retention = models.JSONField(_("retention rules armed"))  # to name what changed later
    armed_at = models.DateTimeField(_("armed"))
    armed_by = models.CharField(_("armed by"), max_length=100)
    how = models.CharField(_("how"), max_length=10, choices=How.choices)
    changed_to = models.CharField(max_length=64, blank=True)  # the last changed digest seen

    plain_fields = ("id", "digest", "retention", "armed_at", "armed_by", "how", "changed_to")

    class Meta:
        verbose_name = _("arming of enforcement")
        verbose_name_plural = _("armings of enforcement")
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"{self.digest[:12]} ({self.armed_by}, {self.armed_at:%Y-%m-%d %H:%M})"


class DailyRun(models.Model):
    """One job of a day's run in `gallra serve`: whether it is done, or failed and when."""

    class Outcome(models.TextChoices):
        OK = "ok", _("done")
        SKIPPED = "skipped", _("skipped")
        FAILED = "failed", _("failed")

    day = models.DateField(_("day"))
    job = models.CharField(_("job"), max_length=40)
    started = models.DateTimeField(_("started"))
    finished = models.DateTimeField(_("finished"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    problem = models.TextField(_("problem"), blank=True)  # an error's text may name anything

    plain_fields = ("id", "day", "job", "started", "finished", "outcome")

    class Meta:
        verbose_name = _("daily job run")
        verbose_name_plural = _("daily job runs")
        indexes = [models.Index(fields=["day", "job"])]

    def __str__(self) -> str:
        return f"{self.day} {self.job}: {self.outcome or 'running'}"
