"""Login monitoring in the admin: alerts to act on, events to look at, never an address.

An account's user name is shown to the roles that may see personal data and to the role that
answers for the `logins` area (policy `[responsibilities]`), which needs it to act on an attack
(Art. 32); each page that shows one is recorded as `personal_data_viewed`, by the refs of the
events or alerts. Every other role sees the pages with the name masked (P22).
"""

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
from gallra.logins.models import (
    AFTER_FAILURES,
    NEW_COUNTRY,
    DestroyedMonth,
    Escrow,
    IngestToken,
    LoginAlert,
    LoginEvent,
)
from gallra.registry.models import Account
from gallra.staff.access import VIEWED, PlainLookupsAdmin, record

MASK = "•••"


def name_in(alert: LoginAlert) -> str:
    """The account's user name an alert's key holds, or "" (a network, a pseudonym, none)."""
    if alert.kind == NEW_COUNTRY:  # "anna SE"
        return alert.key.rsplit(" ", 1)[0]
    if alert.kind == AFTER_FAILURES and not alert.key.startswith("~"):
        return alert.key
    return ""


class AccountNames(PlainLookupsAdmin, ReadOnlyAdmin):
    """A logins page: the column `name_column` shows the user name, or, to a role that may not
    see it, the admin's method `<name_column>_masked` shows MASK in its place. Each page that
    shows a name is an evidence entry naming the records (`login-event-12`), never the names."""

    personal_data_area = "logins"
    name_column = ""
    record_type = ""  # how the evidence names these records

    def names(self, obj) -> list[str]:
        raise NotImplementedError

    def record_type_name(self) -> str:
        return self.record_type

    def _masked(self, request, names):
        if self.may_see_personal_data(request):
            return names
        return tuple(f"{n}_masked" if n == self.name_column else n for n in names)

    def get_list_display(self, request):
        return self._masked(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        return self._masked(request, super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)  # a record of what happened

    def _record_names(self, request, objs) -> None:
        shown = [o for o in objs if self.names(o)]
        if shown and self.may_see_personal_data(request):
            names = {n for o in shown for n in self.names(o)}
            customers = Account.objects.filter(username__in=names).values_list(
                "person__customer__ref", flat=True
            )
            refs = [f"{self.record_type.replace('_', '-')}-{o.pk}" for o in shown]
            record(request, VIEWED, self.record_type, [], refs=refs, customers=set(customers))

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            self._record_names(request, list(changelist.result_list))
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        original = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and original is not None:
            self._record_names(request, [original])
        return response


@admin.register(LoginAlert)
class LoginAlertAdmin(AccountNames):
    list_display = (
        "first_at",
        "last_at",
        "kind",
        "key",
        "events",
        "detail",
        "notified",
        "acknowledged",
    )
    fields = (*list_display, "acknowledged_by")
    list_filter = ("kind", ("acknowledged", admin.EmptyFieldListFilter))
    ordering = ("-last_at",)
    actions = ["acknowledge", "open_incident"]
    change_form_template = "admin/logins/loginalert/change_form.html"
    name_column, record_type = "key", "login_alert"

    def names(self, obj: LoginAlert) -> list[str]:
        return [n] if (n := name_in(obj)) else []

    @admin.display(description=_("key"))
    def key_masked(self, obj: LoginAlert) -> str:
        name = name_in(obj)
        return obj.key.replace(name, MASK, 1) if name else obj.key

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
class LoginEventAdmin(AccountNames):
    list_display = ("at", "outcome", "method", "service", "host", "account", "network", "country")
    list_filter = ("outcome", "service", "method", "country")
    search_fields = ("account", "network")
    fields = list_display
    ordering = ("-at",)
    date_hierarchy = "at"
    show_full_result_count = False
    name_column, record_type = "account", "login_event"

    def names(self, obj: LoginEvent) -> list[str]:
        return [obj.account] if obj.account else []

    @admin.display(description=_("account"))
    def account_masked(self, obj: LoginEvent) -> str:
        return MASK if obj.account else ""


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
