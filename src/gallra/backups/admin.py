"""Backup runs and drills in the admin, read-only: the record of what happened."""

from django.contrib import admin

from gallra.backups.models import BackupRun
from gallra.instance.admin import ReadOnlyAdmin


@admin.register(BackupRun)
class BackupRunAdmin(ReadOnlyAdmin):
    list_display = ("started", "kind", "ok", "snapshot", "problem")
    list_filter = ("kind", "ok")
