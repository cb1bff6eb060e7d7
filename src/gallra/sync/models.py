"""What `gallra sync` remembers between runs: the accounts each source has held, and its runs.

Neither holds personal data: an account is named by its registry ref (a plain field), a run
by its source's id and counts. A remembered account goes when retention deletes the account
(records_deleted, apps.py), or at the next sync once the registry no longer has it.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SourceAccount(models.Model):
    """A registry account that a passwd or LDAP source has held (so its absence means closed)."""

    source = models.CharField(_("source"), max_length=100)
    account_ref = models.CharField(_("account"), max_length=100)
    first_seen = models.DateField(_("first seen"))
    last_seen = models.DateField(_("last seen"))
    # The first day of the current absence: the account is closed as of this day, however
    # late a later sync runs. Empty while the source holds the account.
    missed_since = models.DateField(_("missed since"), null=True, blank=True)
    # The day sync closed the registry account (empty: sync did not close it). Only an account
    # sync closed is opened again when it comes back.
    closed_by_sync = models.DateField(_("closed by sync on"), null=True, blank=True)

    class Meta:
        verbose_name = _("account seen in a source")
        verbose_name_plural = _("accounts seen in a source")
        constraints = [
            models.UniqueConstraint(fields=["source", "account_ref"], name="sync_source_account")
        ]
        indexes = [models.Index(fields=["account_ref"], name="sync_account_ref")]

    def __str__(self) -> str:
        return f"{self.source}: {self.account_ref}"


class SourceRun(models.Model):
    """One sync of one source: the daily job skips a source that cron synced today."""

    class Outcome(models.TextChoices):
        OK = "ok", _("ok")
        REFUSED = "refused", _("imported, except records gallra deleted")
        PROBLEMS = "problems", _("nothing imported: the source's rows have problems")
        UNAVAILABLE = "unavailable", _("the source could not be read")

    source = models.CharField(_("source"), max_length=100)
    day = models.DateField(_("day"))
    started = models.DateTimeField(_("started"))
    finished = models.DateTimeField(_("finished"))
    actor = models.CharField(_("run by"), max_length=100)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    counts = models.JSONField(_("counts"), default=dict)  # numbers only, never a value

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        indexes = [models.Index(fields=["source", "day"], name="sync_run_source_day")]

    def __str__(self) -> str:
        return f"{self.source} {self.day}: {self.outcome}"
