"""Each backup run and restore drill, with its outcome, for the dashboard and the evidence."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupRun(models.Model):
    class Kind(models.TextChoices):
        BACKUP = "backup", _("backup")
        VERIFY = "verify", _("verification")

    kind = models.CharField(max_length=10, choices=Kind.choices)
    started = models.DateTimeField()
    finished = models.DateTimeField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    snapshot = models.CharField(max_length=64, blank=True)  # restic's snapshot id
    summary = models.JSONField(default=dict)  # rows per table and checksum of the dump
    forgotten = models.JSONField(default=list)  # snapshot ids removed by the window
    problem = models.TextField(blank=True)

    # Not plain: `problem`, a tool's error text
    plain_fields = ("id", "kind", "started", "finished", "ok", "snapshot", "summary", "forgotten")

    class Meta:
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")
        ordering = ["-started"]

    def __str__(self) -> str:
        return f"{self.kind} {self.started:%Y-%m-%d %H:%M} {'ok' if self.ok else 'failed'}"
