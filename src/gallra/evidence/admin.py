"""The evidence log in the admin: readable by staff with the view permission, writable by nobody.

No one, superuser included, may add, change or delete an entry here: entries come only from
log.append(), and an edit would break the chain anyway.
"""

from django.contrib import admin

from gallra.evidence.models import Entry


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record of what happened: staff may look, no one may add, change or delete.

    Here, at the bottom layer, so every app's records of what happened can use it (README,
    Layers); instance/admin.py passes it on to the apps above."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor", "action", "rule", "record_type", "count")
    list_filter = ("action", "rule", "record_type")
    search_fields = ("refs", "customers")
    ordering = ("-seq",)
    list_per_page = 100
    show_full_result_count = False  # counting a long log on every page view is slow
