from django.contrib import admin

from gallra.consent.models import ConsentDecision


@admin.register(ConsentDecision)
class ConsentDecisionAdmin(admin.ModelAdmin):
    """Proof, read-only: a visitor who shows their consent id finds their decisions here."""

    list_display = ["at", "consent_id", "action", "banner_revision", "locale"]
    list_filter = ["action", "banner_revision", "locale"]
    search_fields = ["consent_id"]
    readonly_fields = [f.name for f in ConsentDecision._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD")

    def has_delete_permission(self, request, obj=None):
        return False
