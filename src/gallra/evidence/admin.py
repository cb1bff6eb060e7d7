"""The evidence log in the admin: readable by staff with the view permission, writable by nobody.

No one, superuser included, may add, change or delete an entry here: entries come only from
log.append(), and an edit would break the chain anyway.
"""

from django.contrib import admin

from gallra.evidence.models import Entry
from gallra.instance.admin import ReadOnlyAdmin


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor", "action", "rule", "record_type", "count")
    list_filter = ("action", "rule", "record_type")
    search_fields = ("refs", "customers")
    ordering = ("-seq",)
    list_per_page = 100
    show_full_result_count = False  # counting a long log on every page view is slow
