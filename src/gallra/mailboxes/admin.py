"""The mail index in the admin, read-only: what gallra knows of each message (no content)."""

from django.contrib import admin

from gallra.instance.admin import ReadOnlyAdmin
from gallra.mailboxes.models import MailMessage


@admin.register(MailMessage)
class MailMessageAdmin(ReadOnlyAdmin):
    list_display = ("ref", "mailbox", "folder", "date", "customers", "prospects", "unreadable")
    list_filter = ("mailbox", "unreadable")
    search_fields = ("ref", "customers", "prospects")
    date_hierarchy = "date"
