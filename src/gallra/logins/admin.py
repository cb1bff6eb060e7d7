"""Login monitoring in the admin: alerts to act on, events to look at, never an address."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from gallra.incidents.models import Incident
from gallra.instance.admin import ReadOnlyAdmin
from gallra.logins.models import DestroyedMonth, Escrow, IngestToken, LoginAlert, LoginEvent


@admin.register(LoginAlert)
class LoginAlertAdmin(ReadOnlyAdmin):
    list_display = ("first_at", "last_at", "kind", "key", "events", "detail", "notified",
                    "acknowledged")  # fmt: skip
    list_filter = ("kind", ("acknowledged", admin.EmptyFieldListFilter))
    ordering = ("-last_at",)
    actions = ["acknowledge", "open_incident"]
    change_form_template = "admin/logins/loginalert/change_form.html"

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("logins.change_loginalert")

    def has_open_incident_permission(self, request):
        return request.user.has_perm("incidents.add_incident")

    @admin.action(description=_("Open an incident"), permissions=["open_incident"])
    def open_incident(self, request, queryset):
        """One incident per alert (the one already open, if any), the 72-hour clock from now."""
        now, actor = timezone.now(), request.user.get_username()
        incidents = []
        for alert in queryset.order_by("pk"):
            incident, opened = Incident.open_for_login_alert(alert, actor=actor, now=now)
            text = _("Incident %(pk)d opened.") if opened else _("Incident %(pk)d is already open.")
            self.message_user(request, text % {"pk": incident.pk}, messages.SUCCESS)
            incidents.append(incident.pk)
        if len(incidents) == 1:
            return HttpResponseRedirect(
                reverse("admin:incidents_incident_change", args=[incidents[0]])
            )
        query = urlencode({"id__in": ",".join(map(str, incidents))})
        return HttpResponseRedirect(f"{reverse('admin:incidents_incident_changelist')}?{query}")

    def get_urls(self):
        own = [
            path(
                "<int:pk>/incident/",
                self.admin_site.admin_view(require_POST(self.open_incident_view)),
                name="logins_loginalert_incident",
            ),
        ]
        return own + super().get_urls()

    def open_incident_view(self, request, pk: int):
        """The button on an alert's page: the same as the list's action, for this alert."""
        if not self.has_open_incident_permission(request):
            raise PermissionDenied
        get_object_or_404(LoginAlert, pk=pk)
        return self.open_incident(request, LoginAlert.objects.filter(pk=pk))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        incident = None
        if object_id.isdigit():
            incident = Incident.objects.open().filter(login_alert_id=object_id).first()
        extra_context = {
            **(extra_context or {}),
            "open_incident": incident,
            "can_open_incident": self.has_open_incident_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

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
