"""API tokens in the admin: staff see which exist and whom they act for; they are made and
revoked with `gallra api token` (the token is shown once, on the command line)."""

from django.contrib import admin

from gallra.api.models import ApiToken
from gallra.instance.admin import ReadOnlyAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "user", "created", "last_used", "revoked")
    list_filter = (("revoked", admin.EmptyFieldListFilter),)
    fields = list_display
