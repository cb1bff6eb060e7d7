"""Access grants in the admin: listed for staff to see; made and ended with `gallra homes`,
which change the disk too."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from gallra.homes.models import AccessGrant
from gallra.instance.admin import ReadOnlyAdmin


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdmin):
    list_display = ("grant_ref", "owner", "grantee", "agreement", "until", "read_only", "created")
    list_select_related = ("owner", "grantee", "agreement")
    list_filter = ("read_only", "until")
    search_fields = (
        "owner__ref",
        "owner__username",
        "grantee__ref",
        "grantee__username",
        "agreement__ref",
    )
    date_hierarchy = "until"
    fields = (
        "grant_ref",
        "owner",
        "grantee",
        "agreement",
        "until",
        "read_only",
        "grantee_uid",
        "created",
    )

    @admin.display(description=_("grant"), ordering="pk")
    def grant_ref(self, obj: AccessGrant) -> str:
        return obj.ref
