"""The status panel on the admin's front page: did the daily checks pass?"""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy as _

from gallra.backups.models import BackupRun
from gallra.evidence.models import Entry

register = template.Library()


@register.inclusion_tag("admin/gallra_status.html")
def gallra_status() -> dict:
    rows = []
    check = Entry.objects.filter(action="residency_checked").order_by("-seq").first()
    if check is not None:
        failed = check.data.get("failed", [])
        rows.append((_("Where the data is (gallra check)"), check.at, not failed, failed))
    for kind, label in ((BackupRun.Kind.BACKUP, _("Backup")),
                        (BackupRun.Kind.VERIFY, _("Restore drill"))):  # fmt: skip
        run = BackupRun.objects.filter(kind=kind).order_by("-started").first()
        if run is not None:
            rows.append((label, run.finished or run.started, run.ok, run.problem.splitlines()))
    return {"rows": rows}
