"""Login monitoring in the admin: alerts to act on, events to look at, never an address."""

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gallra.instance.admin import ReadOnlyAdmin
from gallra.logins.models import DestroyedMonth, Escrow, IngestToken, LoginAlert, LoginEvent


@admin.register(LoginAlert)
class LoginAlertAdmin(ReadOnlyAdmin):
    list_display = ("first_at", "last_at", "kind", "key", "events", "detail", "notified",
                    "acknowledged")  # fmt: skip
    list_filter = ("kind", ("acknowledged", admin.EmptyFieldListFilter))
    ordering = ("-last_at",)
    actions = ["acknowledge"]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("logins.change_loginalert")

    @admin.action(description=_("Acknowledge the selected alerts"))
    def acknowledge(self, request, queryset):
        n = queryset.filter(acknowledged__isnull=True).update(
            acknowledged=timezone.now(), acknowledged_by=request.user.get_username()
        )
        self.message_user(request, _("%(n)d alerts acknowledged.") % {"n": n}, messages.SUCCESS)


@admin.register(LoginEvent)
class LoginEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "outcome", "method", "service", "host", "account", "network", "country")
    list_filter = ("outcome", "service", "method", "country")
    search_fields = ("account", "network")
    fields = list_display
    ordering = ("-at",)
    date_hierarchy = "at"
    show_full_result_count = False


@admin.register(DestroyedMonth)
class DestroyedMonthAdmin(ReadOnlyAdmin):
    list_display = ("month", "destroyed", "sealing_keys")


@admin.register(Escrow)
class EscrowAdmin(ReadOnlyAdmin):
    list_display = ("set_id", "threshold", "shares", "created", "retired")
    fields = list_display


@admin.register(IngestToken)
class IngestTokenAdmin(ReadOnlyAdmin):
    list_display = ("name", "created", "revoked")
    fields = list_display
