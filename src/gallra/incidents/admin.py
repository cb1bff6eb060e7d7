"""The incident register in the admin: the 72-hour clock in the list, the change form in the
order of Art. 33 and 34, and an evidence entry for every step saved.

Colours come from CSS classes in incidents/admin.css, never inline styles, so the pages keep
working under a Content-Security-Policy without 'unsafe-inline'.
"""

from __future__ import annotations

import math

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from gallra.incidents.models import NO_RISK, Incident

SOON = 24  # hours: the clock turns orange


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("due", _("IMY notification due")),
            ("open", _("open incidents")),
            ("closed", _("closed incidents")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.notification_due()
        if self.value() == "open":
            return queryset.open()
        if self.value() == "closed":
            return queryset.filter(closed_at__isnull=False)
        return queryset


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("title", "known_at", "deadline", "clock", "risk", "notified", "closed")
    list_filter = (StateFilter, "risk")
    search_fields = ("title",)
    raw_id_fields = ("login_alert",)
    readonly_fields = ("deadline", "opened_by", "created_at")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "title",
                    "description",
                    "known_at",
                    "deadline",
                    "login_alert",
                    "opened_by",
                    "created_at",
                )
            },
        ),
        (_("The breach and its risk"), {"fields": ("data_concerned", "subjects_count", "risk")}),
        (
            _("Art. 33: notification to IMY within 72 hours"),
            {
                "fields": (
                    "imy_notified_at",
                    "imy_reference",
                    "delay_reason",
                    "not_notified_reason",
                ),
            },
        ),
        (
            _("Art. 34: telling the data subjects (at high risk)"),
            {
                "fields": ("subjects_told_at", "subjects_told_how", "subjects_not_told_reason"),
            },
        ),
        (_("Closing"), {"fields": ("closed_at",)}),
    )

    class Media:
        css = {"all": ["incidents/admin.css"]}

    def get_changeform_initial_data(self, request):
        return {"known_at": timezone.now(), **super().get_changeform_initial_data(request)}

    def save_model(self, request, obj, form, change):
        actor = request.user.get_username()
        if not change:
            obj.opened_by = actor
        obj.record(actor=actor, now=timezone.now())

    def has_delete_permission(self, request, obj=None):
        return False  # the register is the documentation Art. 33(5) asks for

    @admin.display(description=_("deadline"), ordering="known_at")
    def deadline(self, obj: Incident):
        return obj.deadline if obj.known_at else None

    @admin.display(description=_("clock"))
    def clock(self, obj: Incident):
        """Hours left to notify IMY, or how late it is; nothing once it needs no clock."""
        if obj.notification_due:
            hours = obj.hours_left(timezone.now())
            if hours < 0:
                text = _("%(h)d h late") % {"h": math.ceil(-hours)}
                return format_html('<span class="incident-late">{}</span>', text)
            text = _("%(h)d h left") % {"h": math.floor(hours)}
            css = "incident-soon" if hours < SOON else "incident-clock"
            return format_html('<span class="{}">{}</span>', css, text)
        if obj.late_notification:
            return format_html('<span class="incident-late">{}</span>', _("notified late"))
        if obj.imy_notified_at is None and obj.risk == NO_RISK:
            return _("no notification needed")
        return None

    @admin.display(description=_("IMY notified"), boolean=True, ordering="imy_notified_at")
    def notified(self, obj: Incident) -> bool:
        return obj.imy_notified_at is not None

    @admin.display(description=_("incident closed"), boolean=True, ordering="closed_at")
    def closed(self, obj: Incident) -> bool:
        return obj.closed_at is not None
